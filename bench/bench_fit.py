"""Fit-scoring benchmark: what a push run computes for 15,000 enterprises x 2,000 institutions.

Target (QUALITY.md): full score matrix and top 200 per institution, <= 3 s on 2 cores.

Measured (each run cold: nothing is cached between runs, the text model is fitted afresh) is
exactly the CPU part of a push run, through the functions ``matching.service_push.run_in`` calls:

- ``fit_run.score_all``: TF-IDF over character n-grams fitted on the run's corpus (15,000
  enterprise texts + 2,000 theses) and embedding it, encoding both sides, the hard gates and the
  soft score for every pair (the full 15,000 x 2,000 matrix, on ``default_workers()`` threads);
- ``fit_run.ranked_lists``: top 200 per institution and the zh and en reasons of every row on
  every list (the rows a push run stores and hashes), as ``ListRow`` objects;
- ``fit_run.text_manifest``: the text model's manifest kept on the run.

Not measured here: reading the inputs from PostgreSQL, hashing the rows and diffing them against
the last lists, writing lists and events (``bench/bench_push_run.py`` times whole push runs on the
demo data). Baseline in the same run: a bare dense float32 matmul producing a matrix of the same
shape (15,000 x 2,000, inner dimension 64).
"""

import argparse
import os
import random
import statistics
import time

import msgspec
import numpy as np

from matching.fit_inputs import EnterpriseProfile, InstitutionCriteria
from matching.fit_policy import DEFAULT_FIT_POLICY
from matching.fit_run import default_workers, ranked_lists, score_all, text_manifest
from matching.i18n import Text


def _terms(text: str) -> list[str]:
    return text.split()


CHAIN_TERMS: dict[str, list[str]] = {
    "ic": _terms(
        "集成电路 晶圆 光刻 封装测试 芯片设计 半导体 刻蚀 薄膜沉积 存储芯片 模拟芯片 功率器件 EDA 硅片 掩模版 引线框架"
    ),
    "nev": _terms(
        "新能源汽车 动力电池 电驱动 电机控制器 充电桩 热管理 车载 整车控制 电池管理系统 轻量化车身 氢燃料电池 换电"
    ),
    "ai": _terms(
        "人工智能 机器学习 深度学习 神经网络 计算机视觉 语音识别 自然语言处理 大模型 算力 智能推荐 知识图谱 图像识别"
    ),
    "bio": _terms("生物医药 抗体 疫苗 基因治疗 细胞治疗 小分子药物 制剂 原料药 靶向 临床试验 多肽 核酸药物 中药创新"),
    "med": _terms("医疗器械 影像设备 体外诊断 手术机器人 植介入 监护仪 超声 内窥镜 康复器械 可穿戴 骨科植入 呼吸机"),
    "equip": _terms("高端装备 工业母机 数控机床 主轴 五轴联动 精密加工 刀具 减速器 液压 伺服 激光切割 增材制造"),
    "robot": _terms(
        "机器人 工业机器人 协作机器人 服务机器人 机械臂 末端执行器 运动控制 伺服驱动 视觉引导 谐波减速器 移动机器人"
    ),
    "mat": _terms("新材料 高分子 复合材料 碳纤维 稀土 特种合金 陶瓷材料 石墨烯 涂层 电子化学品 膜材料 磁性材料"),
    "pv": _terms("光伏 储能 逆变器 电池片 组件 硅料 钙钛矿 储能变流器 电化学储能 异质结 光伏支架 能量管理"),
    "ict": _terms("通信 5G 光模块 基站 光纤 射频 天线 路由器 卫星通信 物联网 边缘计算 网络安全"),
    "env": _terms("节能环保 污水处理 固废处理 脱硫脱硝 余热回收 节能电机 膜分离 土壤修复 环境监测 垃圾焚烧 除尘"),
    "agri": _terms("现代农业 食品加工 种业 育种 农机 智慧农业 冷链 饲料 生物农药 发酵 植物提取 保鲜"),
}
GENERIC = _terms("技术 系统 方法 装置 设备 研发 生产 销售 服务 制造 检测 控制 智能 高效 新型 一体化 模块 工艺")
PROVINCES = _terms(
    "北京 天津 河北 山西 内蒙古 辽宁 吉林 黑龙江 上海 江苏 浙江 安徽 福建 江西 山东 河南 "
    "湖北 湖南 广东 广西 海南 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆"
)
CHAINS = list(CHAIN_TERMS)
CHAIN_LABELS = {code: Text(terms[0], code) for code, terms in CHAIN_TERMS.items()}


def enterprise_text(rng: random.Random, chain: str) -> str:
    """A business scope plus five patent titles, mostly in the enterprise's chain."""
    own = CHAIN_TERMS[chain]
    other = CHAIN_TERMS[rng.choice(CHAINS)]
    scope = "、".join(rng.sample(own, 6) + rng.sample(other, 1) + rng.sample(GENERIC, 3))
    titles = [
        f"一种{rng.choice(own)}{rng.choice(GENERIC)}的{rng.choice(GENERIC)}{rng.choice(['方法', '装置', '系统'])}"
        for _ in range(5)
    ]
    return f"经营范围：{scope}。专利：{'；'.join(titles)}"


def thesis_text(rng: random.Random, chains: list[str]) -> str:
    """A short investment thesis naming a few terms of each chain it covers."""
    terms = [t for c in chains for t in rng.sample(CHAIN_TERMS[c], 4)]
    return f"重点关注{'、'.join(terms)}等领域的{rng.choice(GENERIC)}创新企业"


def make_data(n_ent: int, n_inst: int, seed: int = 1) -> tuple[list[EnterpriseProfile], list[InstitutionCriteria]]:
    """Synthetic pool enterprises and institutions with realistic spreads of criteria."""
    rng = random.Random(seed)
    ents = []
    for k in range(n_ent):
        chain = rng.choice(CHAINS)
        ents.append(
            EnterpriseProfile(
                id=f"e{k}",
                province=rng.choice(PROVINCES),
                chains=frozenset({chain} | ({rng.choice(CHAINS)} if rng.random() < 0.2 else set())),
                consent=rng.random() < 0.9,
                financing_need=rng.choice([None] + [x * 1_000_000 for x in (1, 2, 3, 5, 8, 10, 20, 30, 50)]),
                grade=rng.choice([None, "A", "B", "B", "C", "C", "D"]),
                value_degree=rng.choice([None, rng.uniform(30, 95)]),
                growth=rng.choice([None, rng.uniform(-0.2, 0.8)]),
                pool_status=rng.choice(["admitted"] * 4 + ["graduated"]),
                stage=rng.choice([None, "seed", "angel", "A", "B", "pre_ipo"]),
                text=enterprise_text(rng, chain),
            )
        )
    insts = []
    for k in range(n_inst):
        kind = rng.choice(["bank", "bank", "vc_pe", "vc_pe", "guidance_fund"])
        lo = rng.choice([None, 500_000, 1_000_000, 2_000_000, 5_000_000])
        hi = None if lo is None else lo * rng.choice([5, 10, 20, 40])
        chains = rng.sample(CHAINS, rng.randint(1, 4)) if rng.random() < 0.8 else []
        insts.append(
            InstitutionCriteria(
                id=f"i{k}",
                name=f"机构{k}",
                kind=kind,
                provinces=frozenset(rng.sample(PROVINCES, rng.randint(1, 8)) if rng.random() < 0.6 else []),
                chains=frozenset(chains),
                amount_min=lo,
                amount_max=hi,
                min_grade=rng.choice([None, None, "C", "B"]) if kind == "bank" else None,
                stages=frozenset(rng.sample(["seed", "angel", "A", "B", "pre_ipo"], 2))
                if kind != "bank"
                else frozenset(),
                thesis=thesis_text(rng, chains or rng.sample(CHAINS, 2)),
                region_mandate=frozenset(rng.sample(PROVINCES, 2)) if kind == "guidance_fund" else frozenset(),
            )
        )
    return ents, insts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worst-case", action="store_true", help="also score with every pair eligible")
    args = parser.parse_args()
    n_ent, n_inst, n_top = 15_000, 2_000, 200
    profiles, criteria = make_data(n_ent, n_inst)
    policy = DEFAULT_FIT_POLICY
    load_before = os.getloadavg()

    rng = np.random.default_rng(0)
    a = rng.random((n_ent, 64), dtype=np.float32)
    b = rng.random((64, n_inst), dtype=np.float32)
    base_runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        base = a @ b
        base_runs.append(time.perf_counter() - t0)
    t_base = statistics.median(base_runs)
    del base

    runs: list[tuple[float, float, dict[str, float]]] = []
    for _ in range(args.repeats):
        stages: dict[str, float] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        run = score_all(profiles, criteria, policy, timings=stages)
        lists = ranked_lists(run, n_top, CHAIN_LABELS, reasons=3, timings=stages)
        t_manifest = time.perf_counter()
        manifest = text_manifest(run.model)
        stages["manifest"] = time.perf_counter() - t_manifest
        runs.append((time.perf_counter() - t0, time.process_time() - c0, stages))
        del run
    total, cpu, stages = sorted(runs, key=lambda r: r[0])[len(runs) // 2]  # the median run
    rows = sum(len(v) for v in lists.values())
    met = "met" if total <= 3.0 else "NOT met"
    print(
        f"fit scoring for a push run, {n_ent:,} x {n_inst:,}, top {n_top}, cold, median of {args.repeats}:"
        f" {total:.2f} s wall, {cpu:.2f} s CPU (target <= 3 s: {met}; all runs"
        f" {', '.join(f'{r[0]:.2f}' for r in runs)} s)"
    )
    print(
        "  text model fit + embed {text:.2f} s, encode {encode:.2f} s, gates + score matrix {score:.2f} s,"
        " top-N {top_n:.2f} s, zh + en reasons and rows {reasons:.2f} s, manifest {manifest:.2f} s".format(**stages)
    )
    print(f"  baseline dense matmul k=64 {t_base:.3f} s, ratio {total / t_base:.1f}x")
    print(
        f"  workers {default_workers()}, rows pushed {rows:,}, text vocabulary {manifest['vocabulary_size']:,} n-grams;"
        f" e.g. {next(r for v in lists.values() for r in v).reasons_zh}"
    )
    load_after = os.getloadavg()
    print(
        f"  machine: {os.cpu_count()} CPUs, load average {load_before[0]:.2f} {load_before[1]:.2f} before,"
        f" {load_after[0]:.2f} {load_after[1]:.2f} after (1 and 5 min)"
    )
    if args.worst_case:
        worst_case(profiles, criteria, n_top)


def worst_case(profiles: list[EnterpriseProfile], criteria: list[InstitutionCriteria], n_top: int) -> None:
    """Every pair eligible: open criteria, every enterprise consenting (one run, not the target)."""
    open_criteria = [
        msgspec.structs.replace(
            c,
            provinces=frozenset(),
            chains=frozenset(),
            amount_min=None,
            amount_max=None,
            min_grade=None,
            region_mandate=frozenset(),
        )
        for c in criteria
    ]
    all_in = [msgspec.structs.replace(p, consent=True) for p in profiles]
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    run = score_all(all_in, open_criteria, DEFAULT_FIT_POLICY, timings=stages)
    lists = ranked_lists(run, n_top, CHAIN_LABELS, reasons=3, timings=stages)
    text_manifest(run.model)
    print(
        f"  worst case, every pair eligible ({run.result.eligible.mean():.0%}): {time.perf_counter() - t0:.2f} s"
        f" (score matrix {stages['score']:.2f} s, {sum(len(v) for v in lists.values()):,} rows), one run"
    )


if __name__ == "__main__":
    main()

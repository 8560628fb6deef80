"""Matching: the cultivation pool and push lists to banks and funds (pure core).

Pool rules (MISSION.md, MATCHING.md §1):
    ``facts.EnterpriseFacts`` → ``entry.evaluate_entry`` (ten criteria, pass/fail/unknown with
    reasons) → ``override.apply_overrides`` / ``override.entry_outcome``; ``quota.decide_admission``
    (initial / supplement / refused); ``lifecycle.check_transition`` (state machine);
    ``progress.check_progress``, ``is_graduation_candidate``, ``is_withdrawal_candidate`` and the
    withdrawal reason codes. All thresholds live in ``policy.PoolPolicy`` (versioned data).

Fit scoring (MATCHING.md §2-3):
    ``fit_inputs`` (profiles, criteria, array encodings) → ``fit.score_matrix`` (every pair at
    once: gates + 0-100 soft score) → ``fit.top_n`` → ``fit_reasons.explain_top`` (zh/en reasons
    for pushed rows only). Weights in ``fit_policy.FitPolicy``; text model in ``text``.

Push and delivery (MATCHING.md §4-5):
    ``push.diff_push`` (new / changed / removed, idempotent); ``webhooks`` (Standard Webhooks
    secrets and signatures); ``delivery`` (retry schedule, response classification);
    ``ssrf.check_endpoint_url``; ``idempotency`` (Idempotency-Key request hash).

User-facing text is Chinese first with English available (``lang="zh" | "en"``, see ``i18n``).

The shell (I/O) around the core:
    ``public`` (fit_scores, pool_members, pool_status — the only entry points for other domains);
    ``api*`` controllers → ``service_pool`` / ``service_pool_views`` (transitions, quota lock,
    candidates, progress, consent), ``service_institutions`` (criteria versions), ``service_push``
    (push runs; ``fit_run`` is the pure scoring pass, ``push_policy`` its numbers),
    ``schedule.run_due_push_runs``, ``service_lists`` + ``exports`` (pull API, CSV/XLSX),
    ``service_feedback`` (Idempotency-Key); SQL in ``store_*``; outbox events in ``events``;
    ``demo.load_matching_demo``; ``cli`` (``ipledge matching …``).
"""

"""Bilingual user-facing text: Chinese first, English available.

Every reason shown to an operator, an enterprise or an institution is built from a pair of
templates, so the two languages never drift apart.
"""

from typing import Literal

import msgspec

Lang = Literal["zh", "en"]


class Text(msgspec.Struct, frozen=True):
    """A message template in both languages (``str.format`` placeholders)."""

    zh: str
    en: str

    def render(self, lang: Lang, **params: object) -> str:
        """Fill the template of ``lang`` with ``params``.

        Args:
            lang: ``"zh"`` (default language of the product) or ``"en"``.
            **params: Values for the ``{placeholders}`` of the template.

        Returns:
            The rendered message.
        """
        template = self.zh if lang == "zh" else self.en
        return template.format(**params)


def money(yuan: float, lang: Lang) -> str:
    """Format an amount in yuan the way its reader counts: 万元 in Chinese, millions in English.

    Args:
        yuan: The amount in yuan.
        lang: ``"zh"`` gives "800万元", ``"en"`` gives "CNY 8m".

    Returns:
        The formatted amount.
    """
    if lang == "zh":
        return f"{yuan / 10_000:,.{0 if yuan % 10_000 == 0 else 1}f}万元"
    millions = yuan / 1_000_000
    return f"CNY {millions:,.{0 if yuan % 1_000_000 == 0 else 2}f}m"

"""Errors of the valuation core; the HTTP shell maps them to 422 problem details."""


class ValuationInputError(ValueError):
    """An input the valuation core cannot use, naming the offending field.

    Attributes:
        field: Dotted path of the field (e.g. ``"equivalent_investment.patent_cost"``).
        message: Why the value is rejected (English; the shell may translate).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

"""The mapping report: what an import could not carry over as it was (German, for editors)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportLine:
    ref: str  # the FIM element: id, version, name ("" for the whole schema)
    message: str

    def __str__(self) -> str:
        return f"{self.ref}: {self.message}" if self.ref else self.message


@dataclass
class MappingReport:
    lines: list[ReportLine] = field(default_factory=list)

    def add(self, ref: str, message: str) -> None:
        self.lines.append(ReportLine(ref=ref, message=message))

    def __bool__(self) -> bool:
        return bool(self.lines)

    def as_text(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines)

"""The deployment's golden cases: one JSONL file in the data home, which the harness reads as it is."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from pathlib import Path

from api.errors import ApiError
from api.evaluation.schemas import NewCase
from evals.cases import Case, CaseFileError, append_case, case_record, load_cases

log = logging.getLogger(__name__)


class CaseBook:
    """The deployment's golden cases (one JSONL file); writes are serialised within the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def cases(self) -> list[Case]:
        if not self.path.exists():
            return []
        try:
            return load_cases(self.path)
        except CaseFileError as exc:
            log.warning("the case file is broken: %s", exc)
            raise ApiError(
                409, "case_file_invalid", f"测试题文件有错误，请技术人员修正：{self._plain(exc)}"
            ) from exc

    def add(self, draft: NewCase) -> Case:
        with self._lock:
            existing = {c.id for c in self.cases()}
            case_id = draft.id or _new_id(existing)
            if case_id in existing:
                raise ApiError(409, "case_exists", f"测试题编号 {case_id} 已经有了，请换一个。")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                return append_case(self.path, draft.record(case_id))
            except CaseFileError as exc:
                raise ApiError(422, "invalid_case", f"测试题不符合要求：{self._plain(exc)}") from exc

    def remove(self, case_id: str) -> None:
        with self._lock:
            cases = self.cases()
            kept = [c for c in cases if c.id != case_id]
            if len(kept) == len(cases):
                raise ApiError(404, "case_not_found", "没有这道测试题。")
            text = "".join(json.dumps(case_record(c), ensure_ascii=False) + "\n" for c in kept)
            partial = self.path.with_name(f".{self.path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(self.path)

    def _plain(self, exc: CaseFileError) -> str:
        """The harness names the file and line; officials need the line, not the server's paths."""
        text = str(exc).replace(f"{self.path}: 新用例: ", "")
        return re.sub(rf"^{re.escape(str(self.path))}:(\d+): ", r"第\1行：", text)


def _new_id(taken: set[str]) -> str:
    while (case_id := f"q-{uuid.uuid4().hex[:8]}") in taken:
        pass
    return case_id

"""An optional LLM judge: any LangChain chat model rates an answer's faithfulness to the passages it cites
and its agreement with the reference answer. Never required: the other measures need no model, and a
reply the judge cannot put into numbers is logged and left out rather than guessed."""

from __future__ import annotations

import json
import logging
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import ValidationError

from evals.results import CaseResult, Verdict

log = logging.getLogger(__name__)

SYSTEM_PROMPT = """你是严格的评审员，评估一个政策问答助手的回答。只输出一个 JSON 对象，不要输出其他内容：
{{"faithfulness": 0到1之间的数, "correctness": 0到1之间的数或null, "reason": "一句话理由"}}
faithfulness：回答里的每一句话是否都能在所引用的资料里找到依据（金额、日期、比例必须一致）。
correctness：回答与参考答案的意思是否一致；没有参考答案时填 null。"""

HUMAN_PROMPT = "问题：{question}\n\n参考答案：{reference}\n\n助手回答：{answer}\n\n所引用的资料：\n{passages}"

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class Judge:
    def __init__(self, model: BaseChatModel) -> None:
        prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])
        self.chain = prompt | model | StrOutputParser()

    def judge(self, result: CaseResult) -> Verdict | None:
        """The verdict on an answer; None for refusals, errors and replies that are not a verdict."""
        if result.refused or result.error or not result.answer:
            return None
        passages = "\n".join(f"[{c.number}] {c.quote}" for c in result.citations) or "（没有引用）"
        reply = self.chain.invoke(
            {
                "question": result.standalone_question or result.asked,
                "reference": result.case.answer or "（无）",
                "answer": result.answer,
                "passages": passages,
            }
        )
        found = _OBJECT.search(reply)
        try:
            verdict = Verdict.model_validate(json.loads(found.group(0) if found else reply))
        except (ValueError, ValidationError):
            log.warning("the judge's reply for %s is not a verdict: %.200s", result.key, reply)
            return None
        return verdict if result.case.answer else verdict.model_copy(update={"correctness": None})

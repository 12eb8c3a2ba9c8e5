"""What the assistant says in chat channels besides answers (Simplified Chinese), and answers as chat
text."""

from __future__ import annotations

from assistant.answer import Answer
from assistant.replies import EXAMPLES

MORE_FOLLOWS = "\n（未完，发送任意消息查看下一段）"
NO_VOICE = "暂时听不了语音，请打字问我，比如：" + EXAMPLES[0]
VOICE_NOT_RECEIVED = "没能收到您的语音，请再发一次，或者打字问我。"


def welcome(name: str) -> str:
    examples = "\n".join(f"· {q}" for q in EXAMPLES)
    return (
        f"您好，欢迎关注！我是{name}，可以帮您查政策、办事流程和村里的服务。"
        f"打字或者发语音问我都可以，比如：\n{examples}"
    )


def unsupported(name: str) -> str:
    return (
        f"不好意思，{name}现在只能看懂文字和语音消息，看不了图片、位置和视频。"
        f"请打字或发语音问我政策和办事的问题，比如：{EXAMPLES[0]}"
    )


def still_working(may_push: bool) -> str:
    if may_push:
        return "您的问题我还在查，查到后马上发给您，请稍等。"
    return "您的问题我还在查。请过半分钟发送任意消息（比如“1”），我就把答案发给您。"


def new_question_queued(may_push: bool) -> str:
    if may_push:
        return "\n\n您刚发的新消息我也在查，查到后发给您。"
    return "\n\n您刚发的新消息我也在查，过一会儿再发任意消息就能收到答案。"


def heard(transcript: str) -> str:
    return f"您说的是：“{transcript}”\n"


def answer_text(answer: Answer) -> str:
    """The display answer with its [n] marks, then the cited documents by the same numbers."""
    if not answer.citations:
        return answer.answer
    sources = "\n".join(
        f"[{c.number}]《{c.title}》" + (f" {c.section}" if c.section and c.section != c.title else "")
        for c in answer.citations
    )
    return f"{answer.answer}\n\n来源：\n{sources}"

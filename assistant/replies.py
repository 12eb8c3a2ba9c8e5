"""What the assistant says when it does not answer from the documents (Simplified Chinese)."""

from __future__ import annotations

from assistant.answer import AnswerKind

EXAMPLES = ("种粮补贴每亩多少钱？", "新农合一年交多少钱？", "宅基地怎么申请？")


def reply(kind: AnswerKind | str, name: str, handoff: str, max_chars: int = 200, spoken: bool = False) -> str:
    """`spoken`: the question came through speech recognition, which mishears one character in five; a
    refusal then also asks to say it again, as the question may only have been misheard (the channels
    show what was heard)."""
    if kind == "refusal" and spoken:
        return f"这个问题我在现有的文件里没有找到答案。如果我听错了，请再说一遍，或者打字问我。{handoff}"
    examples = "、".join(f"“{q}”" for q in EXAMPLES)
    texts = {
        "greeting": f"您好！我是{name}，可以帮您查政策、办事流程和村里的服务。您可以这样问：{examples}",
        "thanks": "不客气！还有别的想问的，随时问我。",
        "goodbye": "好的，再见！有事随时来问我。",
        "identity": f"我是{name}，是村里的智能助手。我根据县里、村里发布的文件回答政策和办事问题，"
        "文件里没有的我不会乱说。",
        "empty": "请说出或输入您想问的问题。",
        "too_long": f"您的问题有点长，请用一两句话说清楚想问什么（不超过{max_chars}个字）。",
        "garbage": "没看懂您的问题，请换个说法再问一次。",
        "foreign": f"不好意思，我只能用中文回答。请用普通话或中文提问，比如：{EXAMPLES[0]}",
        "refusal": f"这个问题我在现有的文件里没有找到答案，不敢乱说。{handoff}",
    }
    return texts[kind]

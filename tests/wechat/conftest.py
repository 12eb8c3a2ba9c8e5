from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.wechat.fakes import FakeWeChatAPI, serve


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeWeChatAPI, str]]:
    """A fresh fake WeChat API on 127.0.0.1, with the base URL to configure."""
    fake = FakeWeChatAPI()
    with serve(fake.app()) as url:
        yield fake, f"{url}/cgi-bin/"

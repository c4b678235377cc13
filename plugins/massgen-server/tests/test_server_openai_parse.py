"""Parsing OpenAI chat requests into a team's question, history and instructions."""

from __future__ import annotations

import pytest
from massgen_server.openai_api import ChatError, parse_chat_request


def parse(**body):
    return parse_chat_request({"model": "team", **body})


def test_the_last_user_message_is_the_question_and_earlier_pairs_the_history():
    request = parse(messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": [{"type": "text", "text": "And"}, {"type": "text", "text": "times 3?"}]},
    ])
    assert request.question == "And\ntimes 3?" and request.history == (("What is 2+2?", "4"),)
    assert request.system == "Be brief." and request.stream is False and request.include_usage is False


def test_consecutive_user_messages_form_one_question_and_options_are_read():
    request = parse(messages=[{"role": "user", "content": "Hi."}, {"role": "user", "content": "Sum 1 and 2."}],
                    stream=True, stream_options={"include_usage": True}, temperature=0.2, user="u1")
    assert request.question == "Hi.\nSum 1 and 2." and request.stream and request.include_usage
    leading = parse(messages=[{"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "q"}])
    assert leading.history == (("", "Hello!"),)
    two = parse(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"},
                          {"role": "assistant", "content": "c"}, {"role": "user", "content": "d"}])
    assert two.history == (("a\nb", "c"),) and two.question == "d"


@pytest.mark.parametrize(("body", "param", "message"), [
    ([1], None, "JSON object"),
    ({"messages": [{"role": "user", "content": "q"}]}, "model", "'model' is required"),
    ({"model": "t", "messages": [], "n": 2}, "n", "only n=1"),
    ({"model": "t", "messages": []}, "messages", "non-empty list"),
    ({"model": "t", "messages": ["x"]}, "messages[0]", "must be an object"),
    ({"model": "t", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role", "not supported"),
    ({"model": "t", "messages": [{"role": "assistant", "content": "x"}]}, "messages", "last message"),
    ({"model": "t", "messages": [{"role": "user", "content": "  "}]}, "messages", "is empty"),
    ({"model": "t", "messages": [{"role": "user", "content": 3}]}, "messages[0].content", "string or a list"),
    ({"model": "t", "messages": [{"role": "user", "content": [{"text": "x"}]}]}, "messages[0].content", "type"),
    ({"model": "t", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
     "messages[0].content", "must be a data: URL or an http(s) URL"),
    ({"model": "t", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/a.pdf"}}]}]},
     "messages[0].content", "must be an image"),
    ({"model": "t", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://"}}]}]},
     "messages[0].content", "not a usable URL"),
    ({"model": "t", "messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages[0].content", "string 'text'"),
    ({"model": "t", "messages": [{"role": "user", "content": "q"}], "stream": "yes"}, "stream", "true or false"),
    ({"model": "t", "messages": [{"role": "user", "content": "q"}], "stream_options": 1}, "stream_options", "object"),
    ({"model": "t", "messages": [{"role": "user", "content": "q"}], "tools": []}, "tools", "unsupported field"),
])
def test_bad_requests_name_the_field(body, param, message):
    with pytest.raises(ChatError) as info:
        parse_chat_request(body)
    assert info.value.status == 400 and info.value.param == param and message in info.value.message
    assert info.value.response().status_code == 400


def test_a_message_without_content_counts_as_empty_text():
    request = parse(messages=[{"role": "system"}, {"role": "user", "content": "q"}])
    assert request.system == "" and request.question == "q"

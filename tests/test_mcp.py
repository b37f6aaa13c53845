"""wbqa as an MCP tool: `wbqa serve --mcp` serves ask, search and verify at Gradio's MCP
endpoint, from the same process as the page; an MCP client (the `mcp` package) calls them.

Apart from the browser tests: Playwright's sync API keeps an event loop running in its
thread, and the MCP client needs its own."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_mcp_client_asks_through_the_mcp_endpoint(tmp_path, tiny_notes, write_corpus, start_wbqa):
    import asyncio
    import json

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    corpus = write_corpus(tmp_path / "corpus", tiny_notes)
    process, url = start_wbqa(tmp_path, corpus, "--mcp")

    async def call() -> tuple[dict, dict]:
        async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {tool.name: tool for tool in (await session.list_tools()).tools}
                result = await session.call_tool(
                    "ask", {"question": "When did Albania join NATO?", "k": 5, "mode": "hybrid"}
                )
                assert not result.isError, result
                return tools, json.loads(result.content[0].text)

    try:
        tools, answer = asyncio.run(call())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert {"ask", "search", "verify"} <= set(tools)
    schema = tools["ask"].inputSchema["properties"]
    assert schema["question"]["type"] == "string" and schema["k"]["type"] == "integer"
    assert "quoted verbatim" in tools["ask"].description
    assert not answer["abstained"] and "2009" in answer["answer"]
    cited = answer["citations"][0]
    text = (corpus / cited["doc_id"]).read_text()
    assert cited["answer_end"] - cited["answer_start"] == len(answer["answer"])
    assert "Albania joined NATO in 2009" in text and 0 <= answer["confidence"] <= 1

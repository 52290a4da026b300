"""The docs pages render in a real headless Chromium with no network but the app's own."""

import pytest
from playwright.sync_api import Browser, Page, Request, Route

pytestmark = pytest.mark.browser


def _offline_page(browser: Browser, base: str) -> tuple[Page, list[str]]:
    """A page that may only reach the app: any other request is aborted and recorded."""
    page = browser.new_page()
    foreign: list[str] = []

    def guard(route: Route, request: Request) -> None:
        if request.url.startswith(base) or request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            foreign.append(request.url)
            route.abort()

    page.route("**/*", guard)
    return page, foreign


def test_swagger_ui_lists_the_operations(browser: Browser, server: str) -> None:
    page, foreign = _offline_page(browser, server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/docs")
    page.wait_for_selector(".opblock-summary-operation-id", timeout=20000)
    operation_ids = page.locator(".opblock-summary-operation-id").all_inner_texts()
    assert {"list_metrics", "get_city", "list_city_metrics", "list_clusters"} <= set(operation_ids)
    assert page.locator(".opblock-tag").count() >= 7
    assert foreign == []
    assert errors == []
    page.close()


def test_redoc_renders_the_reference(browser: Browser, server: str) -> None:
    page, foreign = _offline_page(browser, server)
    page.goto(f"{server}/redoc")
    page.wait_for_selector("h1:has-text('Innovation Atlas')", timeout=20000)
    page.wait_for_selector("h2:has-text('List metrics')", timeout=20000)
    assert "Innovation Atlas" in page.title()
    assert foreign == []
    page.close()

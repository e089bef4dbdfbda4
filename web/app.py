"""The ASGI application: routes, security headers, the optional access token."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from storage import Archive, NotFound, StorageError
from web import api, pages
from web.security import PAGE_CSP
from web.views import BadRequest

STATIC = Path(__file__).parent / "static"
TOKEN_COOKIE = "newsarchive_token"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)


def create_app(archive: Archive, *, token: str | None = None) -> FastAPI:
    """The UI and API over ``archive``. With ``token`` every request must carry
    it: ``Authorization: Bearer TOKEN`` or ``?token=TOKEN`` (a browser then
    keeps it in a cookie for the links it follows)."""
    app = FastAPI(
        title="newsarchive",
        summary="Read-only API over a newsarchive archive",
        version="1",
        docs_url=None,  # Swagger UI loads scripts from a CDN: no outbound requests here
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.archive = archive
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = _token_of(request)
        if token is not None and not (given and hmac.compare_digest(given.encode(), token.encode())):
            if _wants_json(request):
                return JSONResponse({"error": "a valid token is required"}, status_code=401)
            return PlainTextResponse(
                "401: a valid token is required (?token=… or Authorization: Bearer …)", status_code=401
            )
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers.setdefault("X-Frame-Options", "DENY")
        if token is not None and request.query_params.get("token") == token:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    def error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        return pages.error_page(request, status, message)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        return error(request, 404, str(exc))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return error(request, 400, str(exc))

    @app.exception_handler(StorageError)
    async def storage_error(request: Request, exc: StorageError) -> Response:
        return error(request, 400 if "query" in str(exc) else 503, str(exc))

    return app

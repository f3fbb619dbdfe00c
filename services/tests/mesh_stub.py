"""A stand-in for every service, so the mesh CLI can be tested before the real services exist.

The gateway flavour (chosen by ONESOURCE_GATEWAY_SERVICE_URLS being set) implements the identity calls the
seeder makes, in memory.
"""

import base64
import os
import secrets
import sys
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse


def _crash_if_told() -> None:
    """Fail at start-up while ``$MESH_STUB_CRASH_DIR/crash-<port>`` exists: a service in a crash loop."""
    directory = os.environ.get("MESH_STUB_CRASH_DIR")
    port = sys.argv[sys.argv.index("--port") + 1] if "--port" in sys.argv else ""
    if directory and port and os.path.exists(os.path.join(directory, f"crash-{port}")):
        raise SystemExit(f"told to crash on port {port}")


def create_app() -> FastAPI:
    _crash_if_told()
    app = FastAPI()
    departments: dict[str, dict[str, Any]] = {}
    clients: dict[str, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}
    admin_secret = os.environ.get("ONESOURCE_BOOTSTRAP_ADMIN_SECRET")

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/env")
    def env() -> dict[str, str]:
        return {key: value for key, value in os.environ.items() if key.startswith("ONESOURCE_")}

    if "ONESOURCE_GATEWAY_SERVICE_URLS" not in os.environ:
        return app

    def require_admin(request: Request) -> None:
        if request.headers.get("authorization") != "Bearer admin-token":
            raise HTTPException(401)

    @app.post("/oauth/token")
    async def token(request: Request) -> dict[str, Any]:
        # python-multipart is not installed, so no Form(); parse the urlencoded body directly.
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode()).items()}
        expected = {"grant_type": "client_credentials", "client_id": "admin", "client_secret": admin_secret}
        if form == expected:
            return {"access_token": "admin-token", "token_type": "Bearer", "expires_in": 300}
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic.removeprefix("Basic ")).decode().partition(":")
            form = {**form, "client_id": client_id, "client_secret": secret}
        client = clients.get(form.get("client_id", ""))
        if client is None or client["client_secret"] != form.get("client_secret"):
            raise HTTPException(401)
        return {"access_token": f"client-token-{client['client_id']}", "token_type": "Bearer", "expires_in": 300}

    persons: list[str] = []
    resources: dict[str, dict[str, Any]] = {}

    registries: dict[str, str] = {}

    @app.put("/api/catalog/v1/registries/{service}")
    async def assign_registry(service: str, request: Request) -> Any:
        require_admin(request)
        registries[service] = (await request.json())["owner"]
        return {"service": service, "owner": registries[service]}

    @app.post("/api/catalog/v1/resources", status_code=201)
    async def register_resource(request: Request) -> Any:
        body = await request.json()
        if body["id"] in resources:
            return JSONResponse({"title": "exists"}, status_code=409)
        resources[body["id"]] = {**body, "status": "draft"}
        return resources[body["id"]]

    @app.get("/api/catalog/v1/resources/{resource_id}")
    def get_resource(resource_id: str) -> Any:
        return resources[resource_id]

    @app.post("/api/catalog/v1/resources/{resource_id}/publish")
    def publish_resource(resource_id: str) -> Any:
        resources[resource_id]["status"] = "published"
        return resources[resource_id]

    @app.get("/api/population/v1/persons")
    def list_persons() -> dict[str, Any]:
        return {"items": [{"id_number": number} for number in persons[:1]], "next_cursor": None}

    @app.post("/api/population/v1/imports", status_code=201)
    async def import_persons(request: Request) -> dict[str, Any]:
        if request.headers.get("authorization") != "Bearer client-token-psb-registrar":
            raise HTTPException(403)
        lines = (await request.body()).decode().splitlines()[1:]
        persons.extend(line.split(",")[0] for line in lines)
        return {"accepted": len(lines)}

    geo_imports: list[dict[str, Any]] = []

    @app.get("/api/geo/v1/imports")
    def list_geo_imports() -> dict[str, Any]:
        return {"items": geo_imports[:1], "next_cursor": None}

    @app.post("/api/geo/v1/imports", status_code=201)
    async def import_features(request: Request) -> dict[str, Any]:
        if request.headers.get("authorization") != "Bearer client-token-nrb-registrar":
            raise HTTPException(403)
        features = len((await request.json())["features"])
        geo_imports.append({"collection": request.query_params["collection"], "features": features})
        return geo_imports[-1]

    @app.post("/api/identity/v1/departments", status_code=201)
    async def create_department(request: Request) -> Any:
        require_admin(request)
        body = await request.json()
        if body["code"] in departments:
            return JSONResponse({"title": "exists"}, status_code=409)
        departments[body["code"]] = body
        return body

    @app.get("/api/identity/v1/departments")
    def list_departments() -> dict[str, Any]:
        return {"items": list(departments.values())}

    @app.post("/api/identity/v1/clients", status_code=201)
    async def create_client(request: Request) -> Any:
        require_admin(request)
        body = await request.json()
        if body["department"] not in departments:
            return JSONResponse({"title": "no such department"}, status_code=422)
        if body["client_id"] in clients:
            return JSONResponse({"title": "exists"}, status_code=409)
        clients[body["client_id"]] = {**body, "client_secret": secrets.token_urlsafe(8)}
        return clients[body["client_id"]]

    @app.post("/api/identity/v1/clients/{client_id}/secret")
    def rotate(client_id: str, request: Request) -> Any:
        require_admin(request)
        clients[client_id]["client_secret"] = secrets.token_urlsafe(8)
        return clients[client_id]

    @app.post("/api/identity/v1/people", status_code=201)
    async def create_person(request: Request) -> Any:
        require_admin(request)
        body = await request.json()
        if body["username"] in people:
            return JSONResponse({"title": "exists"}, status_code=409)
        people[body["username"]] = body
        return {**body, "password": None}

    @app.post("/api/identity/v1/people/{username}/password")
    async def reset_password(username: str, request: Request) -> Any:
        require_admin(request)
        people[username]["password"] = (await request.json())["password"]
        return {**people[username], "password": None}

    return app

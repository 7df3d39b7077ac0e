"""The OpenAPI 3 document an `ApiWorld` publishes at ``/openapi.json``, kept up to date in O(1).

`OpenApiPublisher` is a mixin of `ApiWorld`: it builds the document once with the world, then the
mutation methods rewrite only the collections they touch (``_publish``, ``_unpublish``,
``_publish_version``); a sunset version drops out when the document is next read. It adds no state
of its own beyond ``_doc`` and ``_published``, which ``ApiWorld.__init__`` sets.
"""

from __future__ import annotations

from typing import Any

from driftgym.envs.api.schema import Version, type_schema

__all__ = ["ID_PARAMETERS", "PAGE_PARAMETERS", "OpenApiPublisher"]

PAGE_PARAMETERS = ({"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 0}},)  # shared, read-only
ID_PARAMETERS = ({"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},)  # shared, read-only


class OpenApiPublisher:
    """The published schema of an `ApiWorld` (``openapi()`` and the hooks its mutations call)."""

    # set by ApiWorld
    now: int
    page_size: int
    collections: list[str]
    slots: dict[str, tuple[str, ...]]
    versions: list[Version]
    latest: Version
    _doc: dict[str, Any] | None
    _published: list[int]

    # ----------------------------------------------------------------- the published schema
    def live_versions(self) -> list[Version]:
        return [v for v in self.versions if not v.gone(self.now)]

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3 document of what ``handle`` accepts now.

        It is kept up to date by the mutation methods, one collection at a time (a version bump
        or a sunset touches every collection once), so reading it costs O(1). It is the world's
        live document: serialise or copy it before the world changes if you keep it.
        """
        if self._doc is None:
            self._doc = self._empty_openapi()
            for version in self.live_versions():
                for c in self.collections:
                    self._publish(version, c)
            self._published = [v.number for v in self.live_versions()]
        doc = self._doc
        for number in self._published:
            version = self.versions[number - 1]
            if version.gone(self.now):
                for c in self.collections:
                    self._unpublish(version, c, version.routes[c])
        self._published = [n for n in self._published if not self.versions[n - 1].gone(self.now)]
        latest = self.latest
        doc["info"]["version"] = str(latest.number)
        doc["x-page-size"] = self.page_size
        return doc

    def _empty_openapi(self) -> dict[str, Any]:
        paths = {"/auth/token": {"post": {"operationId": "authenticate", "security": []}},
                 "/openapi.json": {"get": {"operationId": "openapi", "security": []}}}
        return {
            "openapi": "3.0.3",
            "info": {"title": "driftgym HttpApi", "version": "1"},
            "x-page-size": self.page_size,
            "x-collections": {},
            "paths": paths,
            "components": {"schemas": {}, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        }

    def _publish(self, version: Version, c: str) -> None:
        """(Re)write the document's paths and schema of one collection in one version."""
        if self._doc is None or version.gone(self.now):
            return
        deprecated = version.deprecated_at is not None
        name = f"V{version.number}_{c}"
        properties = {"id": {"type": "integer", "minimum": 0}}
        for field_id in self.slots[c]:
            properties[version.names[c][field_id]] = type_schema(version.types[c][field_id], field_id)
        self._doc["components"]["schemas"][name] = {"type": "object", "properties": properties}
        ref = {"$ref": f"#/components/schemas/{name}"}
        base, paths = version.routes[c], self._doc["paths"]
        paths[base] = {"get": {"operationId": f"list_{c}_v{version.number}", "parameters": PAGE_PARAMETERS,
                               "deprecated": deprecated, "x-collection": c}}
        paths[base + "/{id}"] = {
            "parameters": ID_PARAMETERS,
            "get": {"operationId": f"get_{c}_v{version.number}", "deprecated": deprecated, "x-collection": c,
                    "responses": {"200": {"content": {"application/json": {"schema": ref}}}}},
            "patch": {"operationId": f"update_{c}_v{version.number}", "deprecated": deprecated,
                      "x-collection": c, "requestBody": {"content": {"application/json": {"schema": ref}}}},
        }
        if version is self.latest:
            self._doc["x-collections"][c] = {"path": base, "schema": name}

    def _unpublish(self, version: Version, c: str, base: str) -> None:
        if self._doc is None:
            return
        self._doc["paths"].pop(base, None)
        self._doc["paths"].pop(base + "/{id}", None)
        self._doc["components"]["schemas"].pop(f"V{version.number}_{c}", None)

    def _publish_version(self, old: Version, new: Version) -> None:
        """Publish the version ``new`` that just superseded ``old``: ``old``'s operations deprecated."""
        if self._doc is None:
            return
        self._published.append(new.number)
        paths = self._doc["paths"]
        for c in self.collections:
            base = old.routes[c]
            if base in paths:
                paths[base]["get"]["deprecated"] = True
                item = paths[base + "/{id}"]
                item["get"]["deprecated"] = item["patch"]["deprecated"] = True
            self._publish(new, c)

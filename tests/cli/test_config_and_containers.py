"""config, services, providers and containers through the console script."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Runner, Services
from tests.cli.helpers import ok, one_error_line


def test_config_shows_sources_and_redacts_secrets(xt: Runner, services: Services) -> None:
    with services.config.open("a", encoding="utf-8") as config:
        config.write(
            "    cloud: {type: storage, provider: store-s3, endpoint-url: 'http://127.0.0.1:1',"
            " access-key-id: AKIA, secret-access-key: 'hunter2-very-secret'}\n"
        )
    text = ok(xt("config"))
    assert "hunter2" not in text
    line = next(row for row in text.splitlines()
                if row.startswith("external-services.local.path:"))
    assert line.endswith(f"# {services.config}") or str(services.config.name) in line
    builtin = next(row for row in text.splitlines() if row.startswith("xt-services.storage:"))
    assert "local" in builtin
    data = json.loads(ok(xt("--json", "config")))
    assert data["config"]["external-services"]["local"]["path"] == str(services.local_root)
    assert "hunter2" not in json.dumps(data)
    assert data["sources"]["external-services.filestorage.provider"] == "built-in defaults"


def test_config_validate(xt: Runner, services: Services, tmp_path: Path) -> None:
    assert "valid" in ok(xt("config", "--validate"))
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "external-services:\n    bad: {type: storage, provider: store-nowhere}\n",
        encoding="utf-8",
    )
    line = one_error_line(xt("--config", str(broken), "config", "--validate"))
    assert "broken.yaml" in line and "external-services.bad.provider" in line
    not_yaml = tmp_path / "notyaml.yaml"
    not_yaml.write_text("external-services: [unclosed\n", encoding="utf-8")
    assert "notyaml.yaml" in one_error_line(xt("--config", str(not_yaml), "ls"))


def test_services_and_providers(xt: Runner, services: Services) -> None:
    rows = [line.split() for line in ok(xt("services")).splitlines()]
    assert ["*", "local", "store-file", str(services.local_root)] in rows
    assert ["other", "store-file", str(services.other_root)] in rows
    listed = json.loads(ok(xt("--json", "services")))
    assert {"name": "other", "provider": "store-file", "location": str(services.other_root),
            "default": False} in listed
    assert json.loads(ok(xt("--json", "--service", "other", "services")))[-1]["default"]
    providers = json.loads(ok(xt("--json", "providers")))
    assert providers["store-file"].endswith("FileStore")
    assert "store-s3" in ok(xt("providers"))


def test_containers_list_create_delete_props(xt: Runner, services: Services) -> None:
    assert ok(xt("containers")) == ""
    ok(xt("containers", "create", "alpha", "beta", "other:gamma"))
    assert ok(xt("containers")).split() == ["alpha", "beta"]
    assert ok(xt("containers", "list")).split() == ["alpha", "beta"]
    assert json.loads(ok(xt("--json", "containers", "list", "other"))) == ["gamma"]
    line = one_error_line(xt("containers", "create", "alpha"))
    assert "'alpha'" in line and "'local'" in line
    ok(xt("containers", "create", "--exist-ok", "alpha"))
    props = json.loads(ok(xt("--json", "containers", "props", "alpha")))
    assert props["name"] == "alpha" and props["last_modified"]
    ok(xt("containers", "delete", "alpha", "other:gamma"))
    assert ok(xt("containers")).split() == ["beta"]
    assert json.loads(ok(xt("--json", "--service", "other", "containers"))) == []

from __future__ import annotations

from scoottest import UserSystemd


def test_user_manager_runs_a_oneshot_unit(user_systemd: UserSystemd, tmp_path) -> None:
    marker = tmp_path / "ran"
    (user_systemd.unit_dir / "probe.service").write_text(
        f"[Service]\nType=oneshot\nExecStart=/bin/touch {marker}\n"
    )
    user_systemd.systemctl("daemon-reload")
    user_systemd.systemctl("start", "probe.service")
    assert marker.exists()
    assert user_systemd.show("probe.service", "Result")["Result"] == "success"

"""Service-manager integration: systemd units and launchd plists for a home (SPEC §10).

Pure rendering lives here (`scoot.units.systemd.render`, `scoot.units.launchd.render`,
the escaping in `scoot.units.escape`); writing and installing is the CLI's job
(`scoot.cli.units`). `python -m scoot.units.shipped` regenerates the repository's
`units/` and `launchd/` folders.
"""

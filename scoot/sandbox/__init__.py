"""The readonly sandbox: a stdlib-only wrapper exec'd in front of confined goals."""

"""NOMS decisions: pillar findings, rules R1-R9 and per-lesion options (pure)."""

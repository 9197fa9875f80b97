"""Stateful fake APIs for connector tests (they keep records and answer from them)."""

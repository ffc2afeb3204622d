"""Tamper-evident ledger (存证溯源): an append-only RFC 6962 Merkle log of every event, with
signed checkpoints, inclusion and consistency proofs, and offline-verifiable receipts.
See docs/ledger.md."""

"""Pure rules: plain functions of plain values, no Flask, no session."""

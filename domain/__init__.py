"""Pure domain: forms, answers, flow, access rules, the clock; no telegram, no sqlite."""

"""Webhook endpoints and Standard Webhooks delivery (MATCHING.md section 4).

- :mod:`ipledge.outbox` — producers' ``enqueue`` (the transactional outbox) and the fan-out.
- :mod:`.sealing` — endpoint secrets encrypted at rest.
- :mod:`.schemas`, :mod:`.store`, :mod:`.service`, :mod:`.api` — endpoints, deliveries, replay, recovery.
- :mod:`.delivery` — claim, sign, send, record (one attempt); :mod:`.worker` — the ``ipledge worker`` loop.

The rules (signing, retry schedule, response classes, SSRF guard) are pure and live in
``matching.webhooks``, ``matching.delivery`` and ``matching.ssrf``.
"""

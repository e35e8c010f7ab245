"""Fault injection for the emulator: configuration, a token-bucket rate limit, one decision per request."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Clock = Callable[[], float]
Outcome = Literal["reset", "hang", "throttle", "error"]


class InjectedFault(Exception):  # noqa: N818 - a signal to the host, not an error of the app
    """Raised by the app for faults a WSGI response cannot express; hosts turn it into network behaviour."""


class InjectedReset(InjectedFault):
    """Drop the connection without an answer. `applied` says whether the request took effect first."""

    def __init__(self, *, applied: bool):
        super().__init__("injected connection reset " + ("after applying" if applied else "before applying"))
        self.applied = applied


class InjectedHang(InjectedFault):
    """Never answer: the client must give up on its own read timeout. `waited` seconds have already passed."""

    def __init__(self, *, waited: float = 0.0):
        super().__init__("injected hang")
        self.waited = waited


@dataclass(frozen=True)
class RateLimit:
    rate_per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not _is_number(self.rate_per_second) or not self.rate_per_second > 0:
            raise ValueError("rateLimit.ratePerSecond must be a number greater than 0")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError("rateLimit.burst must be an integer of at least 1")

    @classmethod
    def coerce(cls, value: Any) -> RateLimit | None:
        """Accept a RateLimit, a `(rate, burst)` pair, a JSON-style mapping, or None."""
        if value is None or isinstance(value, RateLimit):
            return value
        if isinstance(value, tuple | list) and len(value) == 2:
            return cls(value[0], value[1])
        if isinstance(value, Mapping):
            if set(value) != {"ratePerSecond", "burst"}:
                raise ValueError("rateLimit takes exactly ratePerSecond and burst")
            return cls(value["ratePerSecond"], value["burst"])
        raise ValueError("rateLimit must be an object {ratePerSecond, burst} or null")

    def to_json(self) -> dict[str, Any]:
        return {"ratePerSecond": self.rate_per_second, "burst": self.burst}


@dataclass(frozen=True)
class FaultConfig:
    """What to inject. Rates are probabilities in 0..1, drawn independently for each request."""

    latency_ms: int = 0
    error_rate: float = 0.0
    hang_rate: float = 0.0
    reset_rate: float = 0.0
    # A reset after apply loses the answer to a request that DID take effect (the ambiguous case for clients).
    reset_after_apply: bool = False
    rate_limit: RateLimit | None = field(default=None)

    def __post_init__(self) -> None:
        if isinstance(self.latency_ms, bool) or not isinstance(self.latency_ms, int) or self.latency_ms < 0:
            raise ValueError("latencyMs must be a non-negative integer")
        for name in ("error_rate", "hang_rate", "reset_rate"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise ValueError(f"{_camel(name)} must be a number between 0 and 1")
        if not isinstance(self.reset_after_apply, bool):
            raise ValueError("resetAfterApply must be true or false")
        object.__setattr__(self, "rate_limit", RateLimit.coerce(self.rate_limit))

    @classmethod
    def from_json(cls, data: Any) -> FaultConfig:
        """Build from the control endpoint's camelCase object; unknown keys are refused (typos would hide)."""
        if not isinstance(data, Mapping):
            raise ValueError("the body must be a JSON object")
        names = {_camel(name): name for name in cls.__dataclass_fields__}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}; known: {', '.join(names)}")
        return cls(**{names[key]: value for key, value in data.items()})

    def to_json(self) -> dict[str, Any]:
        return {
            "latencyMs": self.latency_ms,
            "errorRate": self.error_rate,
            "hangRate": self.hang_rate,
            "resetRate": self.reset_rate,
            "resetAfterApply": self.reset_after_apply,
            "rateLimit": self.rate_limit.to_json() if self.rate_limit else None,
        }


class TokenBucket:
    """`burst` tokens, refilled at `rate_per_second`; each request takes one. Not thread-safe on its own."""

    def __init__(self, limit: RateLimit, clock: Clock = time.monotonic):
        self.limit = limit
        self._clock = clock
        self._tokens = float(limit.burst)
        self._updated = clock()

    def take(self) -> float | None:
        """None when a token was taken; otherwise the seconds until one will be available."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.limit.burst), self._tokens + elapsed * self.limit.rate_per_second)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self.limit.rate_per_second


@dataclass(frozen=True)
class FaultDecision:
    latency_s: float = 0.0
    outcome: Outcome | None = None
    retry_after: int | None = None  # whole seconds, for `throttle`
    reset_after_apply: bool = False  # answer computed and applied, then the connection is dropped


NO_FAULT = FaultDecision()


class FaultInjector:
    """Holds the current FaultConfig and decides, once per request, which fault (if any) that request gets."""

    def __init__(self, *, clock: Clock = time.monotonic, rng: random.Random | None = None):
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._bucket: TokenBucket | None = None

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            # A fresh, full bucket: a new limit applies from now on.
            self._bucket = TokenBucket(config.rate_limit, self._clock) if config.rate_limit else None

    def clear(self) -> None:
        self.configure(FaultConfig())

    def decide(self) -> FaultDecision:
        with self._lock:
            config = self._config
            if config == FaultConfig():
                return NO_FAULT
            latency = config.latency_ms / 1000
            # One draw per kind, always in the same order, so a seeded rng replays the same sequence.
            reset = self._rng.random() < config.reset_rate
            hang = self._rng.random() < config.hang_rate
            error = self._rng.random() < config.error_rate
            if reset and not config.reset_after_apply:
                return FaultDecision(latency, "reset")
            if hang:
                return FaultDecision(latency, "hang")
            wait = self._bucket.take() if self._bucket else None
            if wait is not None:
                # Whole seconds, rounded up so a client that obeys never comes back too early.
                return FaultDecision(latency, "throttle", retry_after=max(1, math.ceil(wait)))
            if error:
                return FaultDecision(latency, "error")
            return FaultDecision(latency, None, reset_after_apply=reset)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

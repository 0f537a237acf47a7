"""DEMO EQUIPMENT: the channels with a simulated provider. Adding one: its module
demo_sim/<channel>.py and one line here (demo_sim/__init__.py says what the module holds)."""

from __future__ import annotations

from frontdesk.demo_sim.base import SIM_PREFIX, SimStore, Simulator
from frontdesk.demo_sim.line import LineSimulator
from frontdesk.demo_sim.telegram import TelegramSimulator
from frontdesk.demo_sim.wechat import WechatSimulator
from frontdesk.settings import Settings

__all__ = ["SIMULATORS", "sim_store", "simulators"]

SIMULATORS: tuple[type[Simulator], ...] = (TelegramSimulator, LineSimulator, WechatSimulator)


def sim_store(settings: Settings) -> SimStore:
    return SimStore(settings.data_dir / "demo-sim")


def simulators(settings: Settings, store: SimStore | None = None) -> dict[str, Simulator]:
    """One of each, sharing one store, by channel type."""
    shared = store or sim_store(settings)
    base = settings.effective_public_url.rstrip("/") + SIM_PREFIX
    return {cls.channel_type: cls(shared, f"{base}/{cls.channel_type}") for cls in SIMULATORS}

"""A local stand-in for PhonePe and RazorpayX that speaks their wire formats over real HTTP.

`create_app(settings)` serves both gateways under /phonepe and /razorpayx and an admin API under
/sandbox; `settle sandbox` runs it. See docs/gateways.md for its knobs.
"""

from gateways.sandbox.app import create_app
from gateways.sandbox.config import FaultConfig, FaultSpec, ReportAnomalies, SandboxConfig

__all__ = ["FaultConfig", "FaultSpec", "ReportAnomalies", "SandboxConfig", "create_app"]

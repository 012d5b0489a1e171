"""The Jobs hardware list of the Hub test server (`GET /api/jobs/hardware`), priced per minute
like the Hub's (hourly list prices of 2025 divided by 60)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Flavor:
    name: str
    pretty_name: str
    cpu: str
    ram: str
    usd_per_hour: float
    gpus: int = 0
    gpu_model: str = ""
    gpu_vram_gb: int = 0
    manufacturer: str = "Nvidia"

    def as_json(self) -> dict[str, Any]:
        micro_usd = round(self.usd_per_hour * 1_000_000 / 60)
        accelerator = (
            {
                "type": "gpu",
                "model": self.gpu_model,
                "quantity": str(self.gpus),
                "vram": f"{self.gpus * self.gpu_vram_gb} GB",
                "manufacturer": self.manufacturer,
            }
            if self.gpus
            else None
        )
        return {
            "name": self.name,
            "prettyName": self.pretty_name,
            "cpu": self.cpu,
            "ram": self.ram,
            "ephemeralStorage": "20 GB" if not self.gpus else f"{200 * self.gpus} GB",
            "accelerator": accelerator,
            "unitCostMicroUSD": micro_usd,
            "unitCostUSD": micro_usd / 1_000_000,
            "unitLabel": "minute",
        }


FLAVORS: tuple[Flavor, ...] = (
    Flavor("cpu-basic", "CPU Basic", "2 vCPU", "16 GB", 0.01),
    Flavor("cpu-upgrade", "CPU Upgrade", "8 vCPU", "32 GB", 0.03),
    Flavor("t4-small", "Nvidia T4 - small", "4 vCPU", "15 GB", 0.40, 1, "T4", 16),
    Flavor("t4-medium", "Nvidia T4 - medium", "8 vCPU", "30 GB", 0.60, 1, "T4", 16),
    Flavor("l4x1", "1x Nvidia L4", "8 vCPU", "30 GB", 0.80, 1, "L4", 24),
    Flavor("l4x4", "4x Nvidia L4", "48 vCPU", "186 GB", 3.80, 4, "L4", 24),
    Flavor("a10g-small", "Nvidia A10G - small", "4 vCPU", "15 GB", 1.00, 1, "A10G", 24),
    Flavor("a10g-large", "Nvidia A10G - large", "12 vCPU", "46 GB", 1.50, 1, "A10G", 24),
    Flavor("a10g-largex2", "2x Nvidia A10G - large", "24 vCPU", "92 GB", 3.00, 2, "A10G", 24),
    Flavor("a10g-largex4", "4x Nvidia A10G - large", "48 vCPU", "184 GB", 5.00, 4, "A10G", 24),
    Flavor("l40sx1", "1x Nvidia L40S", "8 vCPU", "62 GB", 1.80, 1, "L40S", 48),
    Flavor("a100-large", "Nvidia A100 - large", "12 vCPU", "142 GB", 2.50, 1, "A100", 80),
    Flavor("a100x4", "4x Nvidia A100", "48 vCPU", "568 GB", 10.00, 4, "A100", 80),
    Flavor("a100x8", "8x Nvidia A100", "96 vCPU", "1136 GB", 20.00, 8, "A100", 80),
    Flavor("h100", "Nvidia H100", "23 vCPU", "240 GB", 4.50, 1, "H100", 80),
    Flavor("h100x8", "8x Nvidia H100", "184 vCPU", "1920 GB", 36.00, 8, "H100", 80),
)
FLAVOR_NAMES = frozenset(flavor.name for flavor in FLAVORS)

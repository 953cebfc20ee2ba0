"""Views of a data module for Lightning loops that must see only part of it."""

from __future__ import annotations

import lightning as L


class TrainHalf(L.LightningDataModule):
    """Only the training half of a search split drives Lightning's loop: the other half is
    read by the method itself (an ENAS controller's reward minibatches, a one-shot search's
    scoring batches)."""

    def __init__(self, data: L.LightningDataModule) -> None:
        super().__init__()
        self.data = data

    def setup(self, stage: str | None = None) -> None:
        self.data.setup("fit")

    def train_dataloader(self):
        return self.data.train_dataloader()

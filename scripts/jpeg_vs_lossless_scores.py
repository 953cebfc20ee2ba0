"""Does the CIFAR-10 JPEG copy change the training-free scores? A paired check.

The only lossless CIFAR-10 images available offline are the first 20 test images shipped in
the ``foolbox`` wheel (``shared/data/foolbox_test_samples.npz``). This script finds each of
them in the JPEG copy (same class, smallest squared error; the PSNR is printed), then scores
sampled NB-201 cells twice with identical weights: once on the 20 lossless images and once
on their 20 JPEG versions (no augmentation, zero-cost-nas normalisation). It prints, per
score, the Spearman agreement between the two and each one's |Spearman rho| with the
cells' 200-epoch accuracy. Run:

    python scripts/jpeg_vs_lossless_scores.py --lossless ../shared/data/foolbox_test_samples.npz \
        --jpeg data/cifar10_yoongikim_jpegq75_small.npz --table data/nb201.csv.gz --cells 300
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from common.data.cifar10_jpeg import CIFAR10JpegSmallDataModule
from common.data.pool import CIFAR10_MEAN_ZC, CIFAR10_STD_ZC, normalize, to_nchw
from common.scores.naswot import naswot_score
from common.scores.zero_cost import loss_gradient_proxies
from common.spaces.nb201.arch import NUM_ARCHS, all_archs
from common.spaces.nb201.model import Nb201Network


def match_jpeg(lossless: np.ndarray, labels: np.ndarray, jpeg: np.ndarray, jpeg_labels):
    """Index of each lossless image in ``jpeg`` (same label, least squared error), and PSNR."""
    idx, psnr = [], []
    jpeg = jpeg.astype(np.float64)
    for img, label in zip(lossless.astype(np.float64), labels, strict=True):
        err = ((jpeg - img) ** 2).mean(axis=(1, 2, 3))
        err[jpeg_labels != label] = np.inf
        j = int(err.argmin())
        idx.append(j)
        psnr.append(10 * np.log10(255.0**2 / err[j]))
    return np.array(idx), np.array(psnr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lossless", required=True, help="foolbox_test_samples.npz")
    ap.add_argument("--jpeg", required=True, help="cifar10_yoongikim_jpegq75_small.npz")
    ap.add_argument("--table", required=True, help="nb201.csv.gz")
    ap.add_argument("--cells", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    fb = np.load(args.lossless)
    lossless, labels = fb["cifar10_x"], fb["cifar10_y"].astype(np.int64)
    small = CIFAR10JpegSmallDataModule(root=Path(args.jpeg).parent, split="full", val_fraction=0.0)
    small.setup()
    jpeg, jpeg_labels = small.test_set.raw_images, small.test_set.raw_labels
    idx, psnr = match_jpeg(lossless, labels, jpeg, jpeg_labels)
    print(
        f"matched {len(idx)} test images; PSNR of the JPEG copies: {psnr.min():.1f}-{psnr.max():.1f} dB"
    )

    def prep(images: np.ndarray) -> torch.Tensor:
        return normalize(to_nchw(images), CIFAR10_MEAN_ZC, CIFAR10_STD_ZC)

    batches = {"lossless": prep(lossless), "jpeg": prep(jpeg[idx])}
    y = torch.from_numpy(labels)
    archs = list(all_archs())
    codes = np.random.default_rng(args.seed).choice(NUM_ARCHS, args.cells, replace=False)
    torch.manual_seed(args.seed)
    rows, start = [], time.perf_counter()
    for code in codes:
        net = Nb201Network(archs[code], 10)
        row = {"arch": str(archs[code])}
        for name, x in batches.items():
            for score, value in loss_gradient_proxies(
                net, x, y, ["grad_norm", "snip", "fisher"]
            ).items():
                row[f"{score}:{name}"] = value
            row[f"naswot:{name}"] = naswot_score(net, x)
        rows.append(row)
    print(f"{len(rows)} cells in {time.perf_counter() - start:.0f} s")
    df = pd.DataFrame(rows)
    acc = pd.read_csv(args.table).set_index("arch")["cifar10valid_test"]
    df["acc"] = df["arch"].map(acc)
    print("| score | Spearman(lossless, JPEG) | abs rho with accuracy, lossless | ..., JPEG |")
    print("|---|---|---|---|")
    for score in ("grad_norm", "snip", "fisher", "naswot"):
        a, b = df[f"{score}:lossless"], df[f"{score}:jpeg"]
        agree = spearmanr(a, b, nan_policy="omit").statistic
        rho_a = abs(spearmanr(a, df["acc"], nan_policy="omit").statistic)
        rho_b = abs(spearmanr(b, df["acc"], nan_policy="omit").statistic)
        print(f"| {score} | {agree:.3f} | {rho_a:.3f} | {rho_b:.3f} |")


if __name__ == "__main__":
    main()

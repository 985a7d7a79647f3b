"""Data transforms that the multi-crop pipeline needs faster than the libraries have them."""
import math
from typing import Sequence

import cv2
import numpy as np
from mmcv.image.geometric import pillow_interp_codes
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from PIL import Image

from mmpretrain.datasets.transforms import ColorJitter, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PILRandomResizedCrop(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop``, resized with PIL as DINO's crops are.

    PIL's bicubic and bilinear filters widen with the shrink factor, so a crop that
    shrinks is antialiased, as torchvision's crops of PIL images in DINO's reference
    are; OpenCV's filters keep their width and alias (DINO's local crops shrink up to
    ~2.5x). The crop box is drawn as mmpretrain and torchvision draw it, and the output
    equals PIL's resize of the same box. Unlike mmcv's ``pillow`` backend, the crop is
    copied into one block before PIL takes it: PIL copies a strided view element by
    element, slower than the resize itself.

    Args:
        scale (Sequence[int] | int): Output (h, w), or the side of a square.
        crop_ratio_range (Tuple[float, float]): Range of the crop's area over the
            image's. Defaults to (0.08, 1.0).
        aspect_ratio_range (Tuple[float, float]): Range of the crop's aspect ratio.
            Defaults to (3/4, 4/3).
        max_attempts (int): Draws before falling back to a central crop. Defaults to 10.
        interpolation (str): A PIL filter: 'nearest', 'bilinear', 'bicubic' or
            'lanczos'. Defaults to 'bilinear' (torchvision's default).
    """

    def __init__(self,
                 scale,
                 crop_ratio_range=(0.08, 1.0),
                 aspect_ratio_range=(3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bilinear') -> None:
        if interpolation not in pillow_interp_codes:
            raise ValueError(f'PILRandomResizedCrop: interpolation must be one of '
                             f'{sorted(pillow_interp_codes)}, got {interpolation!r}.')
        super().__init__(scale, crop_ratio_range, aspect_ratio_range, max_attempts,
                         interpolation, backend='pillow')

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, height, width = self.rand_crop_params(img)
        crop = Image.fromarray(np.ascontiguousarray(img[top:top + height, left:left + width]))
        img = np.array(crop.resize(tuple(self.scale[::-1]),
                                   pillow_interp_codes[self.interpolation]))
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results


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


@TRANSFORMS.register_module()
class FastColorJitter(ColorJitter):
    """mmpretrain's ``ColorJitter`` with the OpenCV backend, in fewer passes.

    The same random order and factors, and the same results: brightness and contrast
    are functions of each 8-bit value alone (the contrast's grey mean fixed per
    image), so each is one 256-entry table lookup instead of mmcv's float32 blend,
    clip and conversion passes, and the grey mean is a sum rather than a histogram.
    Saturation is mmcv's, hue mmcv's without its NumPy 2 failure (:func:`adjust_hue`).
    The multi-crop pipeline jitters ten crops per image.

    Args:
        brightness, contrast, saturation, hue: As mmpretrain's ``ColorJitter``.
    """

    def __init__(self, brightness=0., contrast=0., saturation=0., hue=0.) -> None:
        super().__init__(brightness, contrast, saturation, hue, backend='cv2')

    @staticmethod
    def blend_table(factor: float, base: float = 0.) -> np.ndarray:
        """value * factor + base * (1 - factor), clipped, to uint8, rounded as mmcv's
        blend rounds it (OpenCV's float32 blend computes in double)."""
        blended = (np.arange(256) * factor + base * (1 - factor)).astype(np.float32)
        return np.clip(blended, 0, 255).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        img = results['img']
        order, brightness, contrast, saturation, hue = self._rand_params()
        for index in order:
            if index == 0 and brightness is not None:
                img = cv2.LUT(img, self.blend_table(brightness))
            elif index == 1 and contrast is not None:
                gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                mean = round(float(gray.sum(dtype=np.int64)) / gray.size)
                img = cv2.LUT(img, self.blend_table(contrast, mean))
            elif index == 2 and saturation is not None:
                gray = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY),
                                    cv2.COLOR_GRAY2BGR)
                img = cv2.addWeighted(img, saturation, gray, 1 - saturation, 0)
            elif index == 3 and hue is not None:
                img = adjust_hue(img, hue)
        results['img'] = img
        return results


def adjust_hue(img: np.ndarray, hue_factor: float) -> np.ndarray:
    """mmcv's ``adjust_hue`` (OpenCV backend) on a uint8 BGR image, bit for bit, without
    its NumPy 2 failure.

    mmcv shifts the 8-bit hue by ``np.uint8(hue_factor * 255)``, which NumPy 1 wraps
    for a negative factor and NumPy 2 refuses (``OverflowError: Python integer -17 out
    of bounds for uint8``): on a node with NumPy 2, half of the colour-jittered crops
    stopped pre-training. Here the shift is wrapped to 0-255 first, as NumPy 1 did.
    """
    h, s, v = cv2.split(cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL))
    h += np.uint8(int(hue_factor * 255) % 256)  # uint8 addition rotates the hue
    return cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2BGR_FULL)

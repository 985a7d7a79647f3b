"""Direct measures of MST's mechanisms on images whose objects are known.

MST's claims are mechanical before they are about transfer: the teacher's [CLS]
attention finds the object; masking the least attended patches keeps the object while
random masking hides it as often as the background; the decoder restores the crop.
Any COCO-format set with instance masks (the toy COCO, COCO val2017) says where the
objects are, so each claim is a number per image:

``attn_object_ratio``
    The teacher's last-block [CLS] attention mass on the objects divided by the
    objects' share of the crop: 1 for attention blind to the objects, above 1 when it
    looks at them.
``attn_jaccard60``
    DINO's Jaccard (DINO paper Sec. 4.2, ``visualize_attention.py``): keep the most
    attended patches whose cumulative mass reaches 60 %, and compare that region with
    the union of the object masks.
``masked_on_object_low`` / ``_random`` / ``_high``
    The share of the masked patches that lie on objects, with the
    :class:`AttentionGuidedMaskGenerator` of each strategy (the model's
    ``candidate_ratio`` and ``mask_prob``). MST's claim: ``low`` below ``random``.
``restore_psnr``
    The global image decoder's PSNR, in dB, on the masked global crop (the model's own
    mask strategy), over all pixels in 0-255 RGB after undoing the normalisation, as
    its restoring loss covers all pixels; ``None`` without a decoder.

Choices:

- The global crop is the whole image resized to the pre-training's global crop size
  (the backbone's ``img_size``, e.g. 64 px for the toy configs, 224 for ViT-S/16) with
  the pre-training crop's bicubic resize; no random augmentation, no centre crop, so
  every object is in the crop (the aspect ratio is not kept, as in DINO's
  ``visualize_attention.py``).
- A patch counts by its object coverage: the share of its pixels inside the union of
  the instance masks (crowd regions included), computed exactly by area resampling of
  the full-resolution mask. All figures are therefore pixel-exact in the crop with the
  attention spread evenly over each patch's pixels, as DINO's nearest-neighbour
  upsampling of the attention map does, and no object vanishes under a 50 % threshold.
- The attention is averaged over heads (the map the mask generator ranks) and
  normalised over the patches.
- Ties in the attention (a uniform map) are broken at random: each draw of the mask
  permutes the patches before the generator and back after it. Without ties the masks
  are distributed exactly as the generator's.
"""
import contextlib
import io
import itertools
import os.path as osp
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
import torch
from torch import nn

from ..models.attention_guided_mask import AttentionGuidedMaskGenerator
from ..models.vit_utils import capture_last_block_qkv, cls_attention, masked_patch_embedding

STRATEGIES = AttentionGuidedMaskGenerator.STRATEGIES
#: The figures of one image, in the order of the JSON and the table.
METRIC_KEYS = ('attn_object_ratio', 'attn_jaccard60', 'masked_on_object_low',
               'masked_on_object_random', 'masked_on_object_high', 'restore_psnr')
JACCARD_MASS = 0.6


# -- the figures of one image ---------------------------------------------------------

def object_coverage(object_mask: np.ndarray, grid: Sequence[int]) -> np.ndarray:
    """Share of each patch's pixels inside the objects.

    Args:
        object_mask: Boolean (H, W) union of the instance masks of the full image.
        grid: (h, w) patch grid of the crop the whole image is resized to.

    Returns:
        Float (h, w) array in [0, 1]; area resampling makes it exact for any ratio
        of image size to grid size.
    """
    h, w = grid
    return cv2.resize(object_mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def attention_object_ratio(attention: torch.Tensor, coverage: torch.Tensor) -> float:
    """Attention mass on the objects over the objects' share of the crop (N,) -> float.

    NaN when the crop holds no object.
    """
    attention = attention / attention.sum()
    share = coverage.mean()
    if share <= 0:
        return float('nan')
    return float((attention * coverage).sum() / share)


def attention_mass_region(attention: torch.Tensor, mass: float = JACCARD_MASS) -> torch.Tensor:
    """The most attended patches whose cumulative attention first reaches ``mass`` of
    the total (DINO's thresholded attention map): boolean (N,)."""
    values, order = (attention / attention.sum()).sort(descending=True)
    mass_before = values.cumsum(0) - values
    region = torch.zeros_like(attention, dtype=torch.bool)
    region[order[mass_before < mass]] = True
    return region


def attention_jaccard(attention: torch.Tensor, coverage: torch.Tensor,
                      mass: float = JACCARD_MASS) -> float:
    """Jaccard of the ``mass`` attention region and the objects, in crop pixels."""
    region = attention_mass_region(attention, mass).float()
    intersection = (region * coverage).sum()
    union = region.sum() + coverage.sum() - intersection
    return float(intersection / union)


def masked_on_object(masks: torch.Tensor, coverage: torch.Tensor) -> float:
    """Share of the masked patches (pixels) that lie on objects.

    Args:
        masks: Boolean (..., N) masks, e.g. several draws; pooled.
        coverage: (N,) object coverage of the patches.
    """
    masks = masks.float()
    num_masked = masks.sum()
    if num_masked == 0:
        return float('nan')
    return float((masks * coverage).sum() / num_masked)


def psnr(restored: torch.Tensor, target: torch.Tensor, peak: float = 255.) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, peak]."""
    mse = (restored.double() - target.double()).pow(2).mean()
    return float('inf') if mse == 0 else float(10 * torch.log10(peak**2 / mse))


# -- the model's side -----------------------------------------------------------------

def global_crop_size(model) -> int:
    """Side of the pre-training's global crop: the backbone's ``img_size``."""
    backbone = model.backbone
    return backbone.patch_resolution[0] * backbone.patch_embed.projection.stride[0]


def mask_settings(model) -> dict:
    """``candidate_ratio`` and ``mask_prob`` of the model's mask generator, or the
    generator's defaults when the model has none (the DINO baseline)."""
    generator = getattr(model, 'mask_generator', None) or AttentionGuidedMaskGenerator()
    return dict(candidate_ratio=generator.candidate_ratio, mask_prob=generator.mask_prob)


def preprocess(model, crops: np.ndarray) -> torch.Tensor:
    """Crops (B, S, S, 3) uint8 BGR -> the model's normalised input (B, 3, S, S)."""
    images = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2)
    data = model.data_preprocessor(dict(inputs=[images], data_samples=None), False)
    return data['inputs'][0]


def teacher_backbone(model) -> nn.Module:
    """The ViT whose attention MST's mask follows: the teacher's."""
    return model.teacher.module['backbone']


@torch.no_grad()
def cls_attention_of(teacher: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """A ViT's last-block [CLS] attention over the patches (B, N), head-averaged."""
    with capture_last_block_qkv(teacher) as qkv:
        teacher(inputs)
    return cls_attention(qkv[0], teacher.layers[-1].attn.num_heads, teacher.num_extra_tokens)


@torch.no_grad()
def draw_masks(attention: torch.Tensor, strategy: str, num_draws: int,
               candidate_ratio: float, mask_prob: float) -> torch.Tensor:
    """``num_draws`` masks (D, B, N) of the generator of ``strategy``, ties broken at
    random (uses the current torch random state)."""
    generator = AttentionGuidedMaskGenerator(strategy, candidate_ratio, mask_prob)
    masks = []
    for _ in range(num_draws):
        # A random order of the patches of each crop, undone after the generator.
        perm = torch.rand(attention.shape, device=attention.device).argsort(dim=1)
        mask = torch.empty_like(attention, dtype=torch.bool)
        mask.scatter_(1, perm, generator(attention.gather(1, perm)))
        masks.append(mask)
    return torch.stack(masks)


@torch.no_grad()
def restore(model, inputs: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """The decoder's restoration of the masked crops, as pixels (B, 3, S, S) in [0, 255]
    in the channel order of the data (BGR for images read by OpenCV).

    The student sees the crops with ``mask`` replaced by its [MASK] token, as in
    pre-training; a model without a [MASK] token sees them unmasked.
    """
    token = getattr(model, 'mask_token', None)
    masking = (masked_patch_embedding(model.backbone, mask, token)
               if token is not None and mask is not None else contextlib.nullcontext())
    with masking:
        tokens = model.backbone(inputs)[-1][:, model.backbone.num_extra_tokens:]
    restored = model.decoder(tokens, model.patch_grid(inputs))
    pre = model.data_preprocessor
    restored = (restored * pre.std.view(1, 3, 1, 1) + pre.mean.view(1, 3, 1, 1)).clamp(0, 255)
    return restored.flip(1) if pre._channel_conversion else restored


def own_mask_strategy(model) -> Optional[str]:
    """The strategy the model was trained with; None without a mask."""
    generator = getattr(model, 'mask_generator', None)
    return generator.strategy if generator is not None else None


@torch.no_grad()
def mechanism_maps(model, inputs: torch.Tensor, num_draws: int = 1,
                   teacher: Optional[nn.Module] = None) -> tuple:
    """What the figures are computed from, for a batch of crops.

    Returns:
        tuple: the teacher's [CLS] attention (B, N); for each strategy, ``num_draws``
        masks (D, B, N) with the model's mask settings; the decoder's restoration
        (B, 3, S, S) of the crops masked by the first draw of the model's own strategy
        (unmasked when it has none), or None without a decoder.
    """
    teacher = teacher if teacher is not None else teacher_backbone(model)
    attention = cls_attention_of(teacher, inputs)
    settings = mask_settings(model)
    masks = {s: draw_masks(attention, s, num_draws, **settings) for s in STRATEGIES}
    restored = None
    if getattr(model, 'decoder', None) is not None:
        strategy = own_mask_strategy(model)
        restored = restore(model, inputs, masks[strategy][0] if strategy else None)
    return attention, masks, restored


# -- a COCO-format set ------------------------------------------------------------------

@dataclass
class AnnotatedCrop:
    """The global crop of an annotated image and where its objects are."""
    name: str
    image_id: int
    crop: np.ndarray  # (S, S, 3) uint8 BGR: the whole image resized
    coverage: np.ndarray  # (h, w) share of each patch's pixels on objects

    @property
    def object_share(self) -> float:
        return float(self.coverage.mean())


class CocoCrops:
    """The global crops of the images with instance masks of a COCO-format set, in
    image-id order, read one at a time.

    Args:
        ann_file: COCO-format instance annotations.
        img_dir: Folder of the images (``file_name`` is relative to it).
        crop_size: Side of the global crop.
        patch_size: Patch side of the ViT.
        max_images: Keep the first images only.
    """

    def __init__(self, ann_file: str, img_dir: str, crop_size: int, patch_size: int,
                 max_images: Optional[int] = None) -> None:
        from pycocotools.coco import COCO
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'COCO annotation file not found: {ann_file}')
        if crop_size % patch_size:
            raise ValueError(f'crop size {crop_size} is not a multiple of the patch size '
                             f'{patch_size}.')
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its timing
            self.coco = COCO(ann_file)
        self.ann_file, self.img_dir = ann_file, img_dir
        self.crop_size, self.grid = crop_size, (crop_size // patch_size, ) * 2
        self.image_ids, self.skipped = [], []
        for image_id in sorted(self.coco.getImgIds()):
            anns = self.coco.imgToAnns.get(image_id, [])
            if any(a.get('segmentation') for a in anns):
                self.image_ids.append(image_id)
            else:
                self.skipped.append(self.coco.imgs[image_id]['file_name'])
        self.image_ids = self.image_ids[:max_images]
        if not self.image_ids:
            raise ValueError(f'{ann_file}: no image with instance masks to measure.')

    def __len__(self) -> int:
        return len(self.image_ids)

    def __iter__(self) -> Iterator[AnnotatedCrop]:
        for image_id in self.image_ids:
            yield self.load(image_id)

    def load(self, image_id: int) -> AnnotatedCrop:
        info = self.coco.imgs[image_id]
        path = osp.join(self.img_dir, info['file_name'])
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f'cannot read image {path} (listed in {self.ann_file})')
        objects = np.zeros(image.shape[:2], dtype=bool)
        for ann in self.coco.imgToAnns[image_id]:
            if ann.get('segmentation'):
                objects |= self.coco.annToMask(ann).astype(bool)
        # The pre-training crop's resize (mmpretrain RandomResizedCrop, bicubic).
        crop = mmcv.imresize(image, (self.crop_size, ) * 2, interpolation='bicubic')
        return AnnotatedCrop(info['file_name'], image_id, crop,
                             object_coverage(objects, self.grid))

    def skipped_message(self) -> Optional[str]:
        if not self.skipped:
            return None
        return (f'{self.ann_file}: skipped {len(self.skipped)} images without instance '
                f'masks (e.g. {self.skipped[0]})')


# -- all figures of a set ---------------------------------------------------------------

@dataclass
class Example:
    """What a figure of one image shows."""
    crop: AnnotatedCrop
    attention: np.ndarray  # (N,) the teacher's [CLS] attention
    masks: Dict[str, np.ndarray]  # strategy -> (N,) first mask drawn
    restored: Optional[np.ndarray]  # (S, S, 3) uint8 BGR, or None


@dataclass
class Measurement:
    """The figures of each image, and the first images' maps for pictures."""
    per_image: List[dict]
    examples: List[Example]
    #: The mask strategy of the crops the decoder restored ('none': unmasked crops);
    #: None without a decoder.
    restore_strategy: Optional[str]

    @property
    def mean(self) -> dict:
        return mean_metrics(self.per_image)


@contextlib.contextmanager
def seeded_draws(seed: int, device: torch.device) -> Iterator[None]:
    """Draw from ``seed`` inside, and leave the random state as it was outside."""
    cuda = device.type == 'cuda'
    with torch.random.fork_rng(devices=[device] if cuda else []):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield


@torch.no_grad()
def measure(model, crops: Iterable[AnnotatedCrop], seed: int = 0, num_draws: int = 8,
            batch_size: int = 32, keep: int = 0, teacher: Optional[nn.Module] = None,
            log: Optional[Callable[[str], None]] = None) -> Measurement:
    """Measure every figure of :data:`METRIC_KEYS` on each crop.

    The model runs in eval mode (restored afterwards); the random draws of the masks
    come from ``seed`` and leave the caller's random state untouched.

    Args:
        model: An :class:`MST` model (the DINO baseline included).
        crops: :class:`AnnotatedCrop` s, e.g. a :class:`CocoCrops`.
        seed: Seed of the mask draws.
        num_draws: Masks drawn per strategy and image; ``masked_on_object_*`` pools them.
        batch_size: Crops per forward pass.
        keep: Keep the maps of the first ``keep`` images (``Measurement.examples``).
        teacher: The ViT whose attention is measured; defaults to the model's teacher.
        log: Called with a progress line every tenth of the work.
    """
    has_decoder = getattr(model, 'decoder', None) is not None
    device = next(model.parameters()).device
    total = len(crops) if hasattr(crops, '__len__') else None
    num_batches = None if total is None else -(-total // batch_size)
    per_image, examples, start = [], [], time.time()
    was_training = model.training
    model.eval()
    crops = iter(crops)
    try:
        with seeded_draws(seed, device):
            for index in itertools.count():
                batch = list(itertools.islice(crops, batch_size))
                if not batch:
                    break
                inputs = preprocess(model, np.stack([c.crop for c in batch]))
                attention, masks, restored = mechanism_maps(model, inputs, num_draws, teacher)
                coverage = torch.from_numpy(
                    np.stack([c.coverage.reshape(-1) for c in batch])).to(device)
                for i, crop in enumerate(batch):
                    row = dict(image=crop.name, image_id=crop.image_id,
                               object_share=crop.object_share,
                               attn_object_ratio=attention_object_ratio(attention[i],
                                                                        coverage[i]),
                               attn_jaccard60=attention_jaccard(attention[i], coverage[i]))
                    for s in STRATEGIES:
                        row[f'masked_on_object_{s}'] = masked_on_object(masks[s][:, i],
                                                                        coverage[i])
                    target = torch.from_numpy(crop.crop).to(device).permute(2, 0, 1)
                    row['restore_psnr'] = psnr(restored[i], target) if has_decoder else None
                    per_image.append(row)
                    if len(examples) < keep:
                        examples.append(Example(
                            crop, attention[i].cpu().numpy(),
                            {s: m[0, i].cpu().numpy() for s, m in masks.items()},
                            restored[i].round().byte().permute(1, 2, 0).cpu().numpy()
                            if has_decoder else None))
                if log is not None and num_batches and (
                        (index + 1) % max(num_batches // 10, 1) == 0
                        or index + 1 == num_batches):
                    eta = (time.time() - start) / (index + 1) * (num_batches - index - 1)
                    log(f'attention metrics: {len(per_image)}/{total} images, '
                        f'eta {eta:.0f} s')
    finally:
        model.train(was_training)
    return Measurement(per_image, examples,
                       (own_mask_strategy(model) or 'none') if has_decoder else None)


def mean_metrics(per_image: Sequence[dict]) -> dict:
    """Mean of each figure over the images where it is defined (``None`` if nowhere),
    with ``object_share`` and the number of images."""
    mean = dict(num_images=len(per_image))
    for key in ('object_share', *METRIC_KEYS):
        values = [row[key] for row in per_image
                  if row.get(key) is not None and np.isfinite(row[key])]
        mean[key] = float(np.mean(values)) if values else None
    return mean

"""The show_mask picture of a global crop: where the teacher looks, what each mask
strategy hides, what the decoder restores (and, when known, where the objects are).

Panels are the crop upsampled by an integer factor with nearest-neighbour, so that
every patch stays a sharp square and the picture reads at a glance; each panel's
title sits in a strip above it.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

PANEL_SIZE = 192  # minimum side of a panel, in pixels
TITLE_HEIGHT = 24
GAP = 4
TITLES = dict(low='mask: low (MST)', random='mask: random', high='mask: high')

Panel = Tuple[str, np.ndarray]


def upsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upsampling by an integer factor."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def patch_cells(values: np.ndarray, grid: int, size: int) -> np.ndarray:
    """Per-patch values (N,) as a (size, size) image of constant squares."""
    return cv2.resize(values.reshape(grid, grid).astype(np.float32), (size, size),
                      interpolation=cv2.INTER_NEAREST)


def attention_heat(image: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """The attention (N,) as a jet heat map over the image, min to max."""
    grid, size = int(round(len(attention)**0.5)), image.shape[0]
    span = max(attention.max() - attention.min(), 1e-12)
    heat = (255 * (attention - attention.min()) / span).astype(np.uint8)
    heat = cv2.applyColorMap(
        cv2.resize(heat.reshape(grid, grid), (size, size), interpolation=cv2.INTER_NEAREST),
        cv2.COLORMAP_JET)
    return cv2.addWeighted(image, 0.4, heat, 0.6, 0)


def grey_out(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Grey the masked patches (N,) of an image."""
    grid = int(round(len(mask)**0.5))
    cells = patch_cells(mask, grid, image.shape[0]).astype(bool)
    out = image.copy()
    out[cells] = (0.3 * out[cells] + 0.7 * 128).astype(np.uint8)
    return out


def objects_and_region(size: int, coverage: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Object coverage of each patch in grey (white: all object) with the outline of
    the attention region (N,) in red."""
    grid = int(round(len(coverage)**0.5))
    grey = (255 * patch_cells(coverage, grid, size)).astype(np.uint8)
    out = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    inside = patch_cells(region, grid, size).astype(np.uint8)
    contours, _ = cv2.findContours(inside, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (0, 0, 255), max(size // 96, 1))
    return out


def mask_panels(crop: np.ndarray, attention: np.ndarray, masks: Dict[str, np.ndarray],
                restored: Optional[np.ndarray] = None,
                objects: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                restored_mask: str = 'low',
                panel_size: int = PANEL_SIZE) -> List[Panel]:
    """The panels of one crop, each at least ``panel_size`` pixels wide.

    Args:
        crop: (S, S, 3) uint8 BGR crop the model saw.
        attention: (N,) the teacher's [CLS] attention over its patches.
        masks: strategy -> (N,) boolean mask.
        restored: (S, S, 3) uint8 BGR restoration by the decoder, if there is one.
        objects: (coverage (N,), attention region (N,)) to show where the objects are
            and the 60 % attention region.
        restored_mask: The mask strategy of the restored crop ('none': unmasked).
    """
    factor = -(-panel_size // crop.shape[0])
    image = upsample(crop, factor)
    panels = [('crop', image), ('[CLS] attention', attention_heat(image, attention))]
    if objects is not None:
        panels.append(('objects, 60% attention',
                       objects_and_region(image.shape[0], *objects)))
    panels += [(TITLES.get(s, f'mask: {s}'), grey_out(image, m)) for s, m in masks.items()]
    if restored is not None:
        title = 'restored' if restored_mask == 'none' else f'restored ({restored_mask})'
        panels.append((title, upsample(restored, factor)))
    return panels


def titled(title: str, panel: np.ndarray) -> np.ndarray:
    """A panel under a dark strip holding its title, shrunk to fit the width."""
    width = panel.shape[1]
    strip = np.full((TITLE_HEIGHT, width, 3), 32, np.uint8)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.5
    (text_w, text_h), _ = cv2.getTextSize(title, font, scale, 1)
    if text_w > width - 6:
        scale *= (width - 6) / text_w
        (text_w, text_h), _ = cv2.getTextSize(title, font, scale, 1)
    origin = ((width - text_w) // 2, (TITLE_HEIGHT + text_h) // 2)
    cv2.putText(strip, title, origin, font, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([strip, panel], axis=0)


def compose(panels: Sequence[Panel]) -> np.ndarray:
    """The panels side by side, titles above, separated by thin white gaps."""
    columns = [titled(title, panel) for title, panel in panels]
    gap = np.full((columns[0].shape[0], GAP, 3), 255, np.uint8)
    row = [columns[0]]
    for column in columns[1:]:
        row += [gap, column]
    return np.concatenate(row, axis=1)

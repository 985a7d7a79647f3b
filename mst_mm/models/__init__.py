from .attention_guided_mask import AttentionGuidedMaskGenerator
from .data_preprocessor import MultiViewDataPreprocessor
from .dino_head import DINOHead
from .dino_loss import DINOLoss
from .dino_vit import DINOVisionTransformer
from .global_image_decoder import GlobalImageDecoder
from .linear_probe_vit import LinearProbeViT
from .mst import MST
from .multi_scale_neck import ViTMultiScaleNeck

__all__ = ['AttentionGuidedMaskGenerator', 'DINOHead', 'DINOLoss', 'DINOVisionTransformer',
           'GlobalImageDecoder', 'LinearProbeViT', 'MST', 'MultiViewDataPreprocessor',
           'ViTMultiScaleNeck']


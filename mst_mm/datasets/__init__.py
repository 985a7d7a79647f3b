from .transforms import FastRandomGrayscale, RandomGaussianBlur

__all__ = ['FastRandomGrayscale', 'RandomGaussianBlur']

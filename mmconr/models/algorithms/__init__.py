from .connr import ConNR

__all__ = ['ConNR']

"""minicnn.training"""

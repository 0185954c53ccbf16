"""minicnn.optim"""

"""minicnn.data"""

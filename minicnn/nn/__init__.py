"""minicnn.nn"""

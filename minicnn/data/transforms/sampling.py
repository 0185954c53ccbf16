"""Reading a batch of images at arbitrary points: the one gather behind resize, rotate,
affine, elastic and crop.

A geometric transform is described backwards: for every output pixel it names the point of
the input that the pixel shows (the inverse map). Points are in pixel-centre coordinates,
pixel (i, j) sitting at row i, column j. `sample` reads all those points for a whole batch
in one vectorised gather, four neighbours per point for bilinear interpolation, so a batch
of 256 images costs a handful of NumPy calls rather than 256 SciPy calls.
"""
import numpy

INTERPOLATIONS = ("bilinear", "nearest")


def sample(images, rows, cols, interpolation="bilinear", outside="zeros", fill=0):
    """images (N, C, H, W) read at the points (rows, cols) -> (N, C, H', W').

    rows and cols broadcast to (N, H', W') (their first axis may be 1: the same points in
    every image): for output pixel (n, i, j) the input point (rows[n, i, j], cols[n, i, j])
    of image n.

        bilinear:  (1-a)(1-b) x[r, c] + (1-a) b x[r, c+1] + a (1-b) x[r+1, c] + a b x[r+1, c+1]
                   with r = floor(row), a = row - r, c = floor(col), b = col - c
        nearest:   x[floor(row + 1/2), floor(col + 1/2)]   (ties round up, as SciPy's order=0)

    outside='zeros': a point outside [0, H-1] x [0, W-1] reads `fill` and is not blended
    with the pixels it lies beside: SciPy's ndimage mode='constant'.
    outside='edge': points are first moved onto the nearest edge of the image: SciPy's
    mode='nearest' (and align_corners=False resizing in PyTorch).
    The result has the images' dtype; bilinear weights are computed in that dtype.
    """
    count, channels, height, width = images.shape
    out_shape = numpy.broadcast_shapes(numpy.shape(rows), numpy.shape(cols))[1:]
    rows, cols = (numpy.broadcast_to(points, (count,) + out_shape) for points in (rows, cols))
    inside = None
    if outside == "zeros":
        inside = (rows >= 0) & (rows <= height - 1) & (cols >= 0) & (cols <= width - 1)
    rows, cols = numpy.clip(rows, 0, height - 1), numpy.clip(cols, 0, width - 1)
    flat = images.reshape(count, channels, height * width)

    def read(row_index, col_index):
        index = (row_index * width + col_index).reshape(count, 1, -1)
        return numpy.take_along_axis(flat, index, axis=2)

    if interpolation == "nearest":
        out = read(numpy.floor(rows + 0.5).astype(numpy.intp),
                   numpy.floor(cols + 0.5).astype(numpy.intp))
    else:
        top, left = numpy.floor(rows), numpy.floor(cols)
        a = (rows - top).astype(images.dtype).reshape(count, 1, -1)
        b = (cols - left).astype(images.dtype).reshape(count, 1, -1)
        top, left = top.astype(numpy.intp), left.astype(numpy.intp)
        # At the last row or column the second neighbour has weight 0; clamping its index
        # keeps the read inside the array.
        bottom, right = numpy.minimum(top + 1, height - 1), numpy.minimum(left + 1, width - 1)
        upper = read(top, left) * (1 - b) + read(top, right) * b
        lower = read(bottom, left) * (1 - b) + read(bottom, right) * b
        out = upper * (1 - a) + lower * a
    out = out.reshape((count, channels) + out_shape)
    if inside is not None:
        out = numpy.where(inside[:, None], out, numpy.asarray(fill, dtype=images.dtype))
    return out


def affine_points(inverse, centre, shift, out_height, out_width):
    """rows, cols (N, H', W'): the input points read by the output pixels of the affine maps
    p' = L (p - c) + c + shift, that is p = c + L^-1 (p' - c - shift), with `inverse` the
    L^-1 (N, 2, 2), centre c (2,) and shift (N, 2), all in pixel-centre coordinates
    (x = column, y = row). Measured from the centre, the centre pixel reads the centre
    exactly, however the angle rounds.
    """
    dy = numpy.arange(out_height)[None, :, None] - centre[1] - shift[:, 1, None, None]
    dx = numpy.arange(out_width)[None, None, :] - centre[0] - shift[:, 0, None, None]
    m = inverse[:, :, :, None, None]
    cols = centre[0] + (m[:, 0, 0] * dx + m[:, 0, 1] * dy)
    rows = centre[1] + (m[:, 1, 0] * dx + m[:, 1, 1] * dy)
    return rows, cols

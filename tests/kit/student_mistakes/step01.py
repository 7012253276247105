from . import Mistake

STEP = "step01_plotting"
MISTAKES = [
    Mistake(
        STEP,
        "plot-without-gray",
        '    ax.imshow(image, cmap="gray")\n    title',
        "    ax.imshow(image)\n    title",
        ('cmap="gray"',),
    ),
    Mistake(
        STEP,
        "plot-shows-instead-of-returning",
        '    ax.set_title(title)\n    ax.axis("off")\n    return fig',
        '    ax.set_title(title)\n    ax.axis("off")\n    plt.show()',
        ("should return the matplotlib Figure", "NoneType"),
    ),
    Mistake(
        STEP,
        "plot-transposed",
        "image = _numpy(X).reshape(28, 28)",
        "image = _numpy(X).reshape(28, 28).T",
        ("transpose",),
    ),
    Mistake(
        STEP,
        "plot-title-without-prediction",
        'title += f", prediction: {int(pred)}"',
        "pass",
        ("prediction 8",),
    ),
    Mistake(
        STEP,
        "plot-probs-bars-from-one",
        "ax.bar(range(10), _numpy(theta))",
        "ax.bar(range(1, 11), _numpy(theta))",
        ("x = 0..9",),
    ),
    Mistake(
        STEP,
        "plot-probs-shows-instead-of-returning",
        '    ax.set_ylabel("probability")\n    return fig',
        '    ax.set_ylabel("probability")\n    plt.show()',
        ("plot_probs should return the matplotlib Figure",),
    ),
    Mistake(
        STEP,
        "plot-grid-column-major",
        "top, left = (i // ncols) * 28, (i % ncols) * 28",
        "top, left = (i % rows) * 28, (i // rows) * 28",
        ("row-major",),
    ),
    Mistake(
        STEP,
        "plot-grid-rows-rounded-down",
        "rows = (n + ncols - 1) // ncols",
        "rows = n // ncols",
        ("3 rows", "round"),
    ),
    Mistake(
        STEP,
        "plot-grid-ignores-labels",
        "if labels is not None:",
        "if False:",
        ("labels 7, 2, 1, 0",),
    ),
]

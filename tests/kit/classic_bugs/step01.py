from . import Bug

STEP = "step01_plotting"
BUGS = [
    Bug(
        STEP,
        "title-without-prediction",
        '    if pred is not None:\n        title += f", prediction: {int(pred)}"\n',
        "",
    ),
    Bug(
        STEP,
        "transposed-image",
        "image = _numpy(X).reshape(28, 28)",
        "image = _numpy(X).reshape(28, 28).T",
    ),
    Bug(STEP, "default-colormap", '    ax.imshow(image, cmap="gray")\n', "    ax.imshow(image)\n"),
    Bug(
        STEP,
        "show-instead-of-return",
        '    ax.axis("off")\n    return fig\n    # END SOLUTION\n\n\ndef plot_probs',
        '    ax.axis("off")\n    plt.show()\n    # END SOLUTION\n\n\ndef plot_probs',
    ),
    Bug(
        STEP,
        "show-before-return",
        '    ax.set_ylabel("probability")\n    return fig',
        '    ax.set_ylabel("probability")\n    plt.show()\n    return fig',
    ),
    Bug(
        STEP,
        "bars-at-1-to-10",
        "ax.bar(range(10), _numpy(theta))",
        "ax.bar(range(1, 11), _numpy(theta))",
    ),
    Bug(
        STEP,
        "grid-column-major",
        "top, left = (i // ncols) * 28, (i % ncols) * 28",
        "top, left = (i % rows) * 28, (i // rows) * 28",
    ),
    Bug(
        STEP,
        "grid-ignores-labels",
        "        if labels is not None:\n            ax.text(",
        "        if False:\n            ax.text(",
    ),
]

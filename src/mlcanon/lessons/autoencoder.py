"""Section H lesson: a convolutional autoencoder on digits, measured against PCA."""

from __future__ import annotations

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _digits, _seeded


def _train_autoencoder(images, latent_dim: int, epochs: int = 40, batch: int = 64):
    """Adam on the mean squared reconstruction error; returns the model and its loss curve."""
    import torch

    from mlcanon.models import ConvAutoEncoder

    x = images.float()
    with _seeded(0):
        model = ConvAutoEncoder(latent_dim=latent_dim)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        with torch.no_grad():
            curve = [torch.mean((model(x) - x) ** 2).item()]  # before training
        for _ in range(epochs):
            for idx in torch.randperm(len(x)).split(batch):
                opt.zero_grad()
                loss = torch.mean((model(x[idx]) - x[idx]) ** 2)
                loss.backward()
                opt.step()
            with torch.no_grad():
                curve.append(torch.mean((model(x) - x) ** 2).item())
    return model.eval(), curve


def _pca_error(pca_cls, train: np.ndarray, test: np.ndarray, k: int) -> float:
    """Held-out mean squared reconstruction error of rank-k PCA (ours or scikit-learn's)."""
    pca = pca_cls(n_components=k).fit(train)
    recon = pca.inverse_transform(pca.transform(test))
    return float(np.mean((recon - test) ** 2))


@lesson("autoencoder")
def autoencoder_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.decomposition import PCA

    ctx.say("""
        An autoencoder is two networks trained as one: an encoder that squeezes the input into
        a short code z and a decoder that rebuilds the input from z, trained to make the
        reconstruction equal the input. The narrow code forces it to keep what varies most in
        the data, so it learns a compression without labels. With linear layers and squared
        error the best it can do is exactly PCA (Baldi and Hornik, 1989): the code spans the
        leading principal subspace. Non-linear layers let it bend that subspace into a curved
        manifold, which is why it can beat PCA at the same code size.

        Here a small convolutional autoencoder (two convolutions down to a 4 x 4 map, a linear
        code, a transposed convolution back up; mlcanon.models.ConvAutoEncoder) is trained with
        Adam on 1200 digits and judged on the 597 held-out ones, against PCA with as many
        components as the code has entries.
        """)
    d = _digits()
    train, test = d.X.numpy(), d.X_test.numpy()
    rows, errors = [], {}
    for k in (2, 8):
        model, curve = _train_autoencoder(d.img, k)
        with torch.no_grad():
            recon = model(d.img_test.float()).double().reshape(len(test), -1).numpy()
        ae_err = float(np.mean((recon - test) ** 2))
        pca_err = _pca_error(PCA, train, test, k)
        errors[k] = (ae_err, pca_err, model, curve)
        rows.append([k, ae_err, pca_err, ae_err / pca_err])
    ctx.table(
        "held-out mean squared reconstruction error (pixels in [0, 1])",
        ["code size", "autoencoder", "PCA", "ratio"],
        rows,
    )
    from sklearn.decomposition import PCA as SkPCA

    ctx.check(
        "PCA reconstruction error at k = 2 (ours)",
        errors[2][1],
        lambda: _pca_error(SkPCA, train, test, 2),
        rtol=1e-10,
        ref="sklearn PCA",
    )
    ae2, pca2 = errors[2][0], errors[2][1]
    ctx.claim(
        "with a 2-number code the autoencoder reconstructs held-out digits better than PCA",
        ae2 < pca2,
        f"MSE {ae2:.4f} vs {pca2:.4f}",
    )
    curve = errors[2][3]
    ctx.claim(
        "training lowers the reconstruction error at least threefold",
        curve[-1] * 3 < curve[0],
        f"{curve[0]:.4f} -> {curve[-1]:.4f}",
    )
    ratios = {k: errors[k][0] / errors[k][1] for k in errors}
    ctx.say(f"""
        Measured here, the autoencoder's held-out error is {ratios[2]:.2f} times PCA's with a
        2-number code and {ratios[8]:.2f} times with 8. Two linear directions cannot separate
        ten digit shapes, while the non-linear decoder draws a different stroke pattern for
        each region of the code plane (the figure colours the 2-D codes by digit: classes
        gather without any label being used). PCA keeps one advantage: it needs no training,
        and its k-dimensional answer is the best of all linear ones (Eckart-Young).
        """)
    _figures(ctx, d, errors[2][2])


def _figures(ctx: Context, d, model) -> None:
    import torch

    with torch.no_grad():
        z = model.encode(d.img_test.float()).numpy()
        recon = model(d.img_test[:8].float()).numpy()
    with ctx.figure("latent-space", figsize=(5.5, 4.5)) as fig:
        ax = fig.subplots()
        points = ax.scatter(z[:, 0], z[:, 1], c=d.y_test.numpy(), cmap="tab10", s=8)
        fig.colorbar(points, ax=ax, label="digit")
        ax.set(title="2-D codes of held-out digits", xlabel="z1", ylabel="z2")
    with ctx.figure("reconstructions", figsize=(8, 2.2)) as fig:
        axes = fig.subplots(2, 8)
        for i in range(8):
            axes[0, i].imshow(d.img_test[i, 0].numpy(), cmap="gray_r")
            axes[1, i].imshow(recon[i, 0], cmap="gray_r")
            axes[0, i].axis("off")
            axes[1, i].axis("off")
        axes[0, 0].set_title("input (top) / 2-D code reconstruction (bottom)", loc="left")

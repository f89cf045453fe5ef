import pytest

from domaug.ops import opencv


@pytest.fixture(params=["opencv", "numpy"])
def path(request):
    """Run the test with the OpenCV kernels, then with the numpy fallback."""
    if request.param == "opencv" and opencv.cv2_module() is None:
        pytest.skip("OpenCV paths disabled (DOMAUG_OPENCV=0) or not installed")
    opencv.set_enabled(request.param == "opencv")
    yield request.param
    opencv.set_enabled(True)  # back to the environment's setting

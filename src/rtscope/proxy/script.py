"""mitmproxy script: ``mitmdump -s "$(rtscope addon-path)" --set rtscope_dir=captures``.

mitmproxy loads this file by path (``rtscope addon-path`` prints it) and uses ``addons``: the
recorder, and backpressure for the connections it records (option ``rtscope_backlog``).
"""

from rtscope.proxy.addon import Recorder
from rtscope.proxy.backpressure import RecordingBackpressure

addons = [Recorder(), RecordingBackpressure()]

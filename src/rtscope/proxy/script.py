"""mitmproxy script: ``mitmdump -s "$(rtscope addon-path)" --set rtscope_dir=captures``.

mitmproxy loads this file by path (``rtscope addon-path`` prints it) and uses ``addons``.
"""

from rtscope.proxy.addon import Recorder

addons = [Recorder()]

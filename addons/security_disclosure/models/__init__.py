from . import team
from . import res_partner
from . import res_config_settings
from . import security_report_scope
from . import security_intake
from . import security_report
from . import security_advisory
from . import ir_attachment

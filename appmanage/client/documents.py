"""The GraphQL operations the commands send (graphql/schema.graphql is the API)."""

from __future__ import annotations

ERROR = "... on Error { message }"
JOB = "id app kind state step progress error worker createdAt startedAt finishedAt"
APP_ROW = "name catalogApp version status statusReason availableActions activeJob { id kind state }"
APP = f"""{APP_ROW} createdAt updatedAt
  services {{ name state health exitCode image container }}
  ports {{ service hostIp hostPort containerPort protocol }}
  settings(reveal: $reveal) {{ key value secret }}"""
PARAMETER = "key label type required default choices secret editable pattern min max"
CATALOG_APP = f"name title description versions defaultVersion source parameters {{ {PARAMETER} }}"
ACCEPTED = f"__typename ... on JobAccepted {{ job {{ {JOB} }} app {{ name status }} }} {ERROR}"

APPS = f"query Apps($status: AppStatus) {{ apps(status: $status) {{ {APP_ROW} }} }}"
APPS_PAGE = f"""query AppsPage($first: Int, $after: String, $status: AppStatus) {{
  appsConnection(first: $first, after: $after, status: $status) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {APP_ROW} }} }} }} }}"""
APP_ONE = f"query App($name: String!, $reveal: Boolean!) {{ app(name: $name) {{ {APP} }} }}"
JOBS_OF_APP = f"query Jobs($name: String!, $first: Int) {{ app(name: $name) {{ jobs(first: $first) {{ {JOB} }} }} }}"
JOBS_OF_ALL = f"query Jobs($first: Int) {{ apps {{ jobs(first: $first) {{ {JOB} }} }} }}"
JOB_ONE = f"query Job($id: ID!, $tail: Int) {{ job(id: $id) {{ {JOB} log(tail: $tail) }} }}"
CATALOG = f"query Catalog($search: String) {{ catalog(search: $search) {{ {CATALOG_APP} }} }}"
CATALOG_ONE = f"query CatalogApp($name: String!) {{ catalogApp(name: $name) {{ {CATALOG_APP} }} }}"
CATALOG_PROBLEMS = "query { catalogProblems { source app message } }"
HEALTH = "query { health { docker redis database workers subscribers } }"
VIEWER = "query { viewer { role } }"
TOKENS = "query { tokens { id name role createdAt lastUsedAt } }"
APP_LOGS = """query Logs($name: String!, $service: String, $tail: Int) {
  appLogs(name: $name, service: $service, tail: $tail) { service timestamp line } }"""
PREVIEW = f"""query Preview($input: InstallAppInput!) {{ previewInstall(input: $input) {{
  __typename ... on InstallPreview {{ compose warnings settings {{ key value secret }} }} {ERROR} }} }}"""

INSTALL = f"mutation Install($input: InstallAppInput!) {{ installApp(input: $input) {{ {ACCEPTED} }} }}"
START = f"mutation Start($name: String!) {{ startApp(name: $name) {{ {ACCEPTED} }} }}"
STOP = f"mutation Stop($name: String!) {{ stopApp(name: $name) {{ {ACCEPTED} }} }}"
RESTART = f"mutation Restart($name: String!) {{ restartApp(name: $name) {{ {ACCEPTED} }} }}"
REDEPLOY = f"""mutation Redeploy($name: String!, $settings: [SettingInput!]) {{
  redeployApp(name: $name, settings: $settings) {{ {ACCEPTED} }} }}"""
UPDATE = f"""mutation Update($name: String!, $version: String!) {{
  updateApp(name: $name, version: $version) {{ {ACCEPTED} }} }}"""
UNINSTALL = f"""mutation Uninstall($name: String!, $purge: Boolean) {{
  uninstallApp(name: $name, purgeData: $purge) {{ {ACCEPTED} }} }}"""
CANCEL = f"""mutation Cancel($id: ID!) {{ cancelJob(id: $id) {{
  __typename ... on JobCanceled {{ job {{ {JOB} }} }} {ERROR} }} }}"""
CREATE_TOKEN = f"""mutation CreateToken($name: String!, $role: Role!) {{ createToken(name: $name, role: $role) {{
  __typename ... on TokenCreated {{ secret token {{ id name role createdAt lastUsedAt }} }} {ERROR} }} }}"""
REVOKE_TOKEN = f"""mutation RevokeToken($id: ID!) {{ revokeToken(id: $id) {{
  __typename ... on ApiToken {{ id name role createdAt lastUsedAt }} {ERROR} }} }}"""

FOLLOW_JOB = f"subscription Follow($id: ID!) {{ jobUpdated(id: $id) {{ cursor line job {{ {JOB} }} }} }}"
FOLLOW_LOGS = """subscription Logs($name: String!, $service: String, $tail: Int) {
  appLogs(name: $name, service: $service, tail: $tail) { service timestamp line } }"""
FOLLOW_STATUS = """subscription Status($name: String) {
  appStatusChanged(name: $name) { cursor app status previous removed statusReason at } }"""
EVENTS = f"""subscription Events($after: String) {{ events(after: $after) {{
  __typename
  ... on AppStatusEvent {{ cursor app status previous removed statusReason at }}
  ... on JobEvent {{ cursor line at job {{ {JOB} }} }} }} }}"""

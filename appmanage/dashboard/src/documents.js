// The GraphQL documents the dashboard sends (graphql/schema.graphql is the API).
const JOB = "id app kind state step progress error createdAt startedAt finishedAt";
const ROW = "name host catalogApp source version status statusReason availableActions activeJob { id kind state }";
const RESULT = `__typename ... on Error { message } ... on JobAccepted { job { id } }`;

export const APPS = `query { apps { ${ROW} } }`;
export const APP_ROW = `query($name: String!) { app(name: $name) { ${ROW} } }`;
export const APP_PAGE = `query($name: String!) { app(name: $name) {
  ${ROW} createdAt updatedAt
  services { name state health exitCode image container }
  ports { service hostIp hostPort containerPort protocol }
  settings { key value secret }
  jobs(first: 20) { ${JOB} }
} }`;
export const VERSIONS = "query($name: String!) { catalogApp(name: $name) { versions defaultVersion } }";
export const CATALOG = "query($search: String) { catalog(search: $search) { name title description defaultVersion } }";
export const CATALOG_APP = `query($name: String!) { catalogApp(name: $name) {
  name title description versions defaultVersion
  parameters { key label type required default choices secret editable pattern min max }
} }`;
export const PREVIEW = `query($input: InstallAppInput!) { previewInstall(input: $input) {
  __typename ... on Error { message } ... on InstallPreview { warnings compose }
} }`;
export const INSTALL = `mutation($input: InstallAppInput!) { installApp(input: $input) { ${RESULT} } }`;
export const JOB_LOG = `query($id: ID!) { job(id: $id) { ${JOB} log(tail: 2000) } }`;
export const CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { __typename ... on Error { message } } }";
export const UPDATE = `mutation($name: String!, $version: String!) { updateApp(name: $name, version: $version) { ${RESULT} } }`;
export const APP_COMPOSE = "query($name: String!) { app(name: $name) { compose { compose env } } }";
export const EDIT_APP = `mutation($name: String!, $compose: String!, $env: String) {
  editApp(name: $name, compose: $compose, env: $env) { ${RESULT} } }`;

/** The mutation behind each action a row's button offers. */
export const ACTIONS = {
  START: `mutation($name: String!) { startApp(name: $name) { ${RESULT} } }`,
  STOP: `mutation($name: String!) { stopApp(name: $name) { ${RESULT} } }`,
  RESTART: `mutation($name: String!) { restartApp(name: $name) { ${RESULT} } }`,
  REDEPLOY: `mutation($name: String!) { redeployApp(name: $name) { ${RESULT} } }`,
  UNINSTALL: `mutation($name: String!) { uninstallApp(name: $name) { ${RESULT} } }`,
};

export const EVENTS = `subscription($after: String) { events(after: $after) {
  __typename
  ... on AppStatusEvent { cursor app status statusReason removed }
  ... on JobEvent { cursor job { id app kind state } }
} }`;
export const JOB_UPDATES = `subscription($id: ID!) { jobUpdated(id: $id) { job { ${JOB} } line } }`;
export const STATUS_OF = `subscription($name: String) { appStatusChanged(name: $name) { status statusReason removed } }`;
export const LOGS = `subscription($name: String!) { appLogs(name: $name, tail: 200) { service line } }`;

const FIGURES = "cpuPercent memoryBytes memoryLimitBytes";
export const APP_STATS = `subscription($name: String!, $every: Int) { appStats(name: $name, everySeconds: $every) {
  sampledAt containers ${FIGURES} services { name containers ${FIGURES} }
} }`;
export const STATS_HISTORY = `query($name: String!, $since: DateTime!) { app(name: $name) {
  statsHistory(since: $since) { minute cpuPercent memoryBytes }
} }`;

const BACKUP = "id app createdAt sizeBytes version safetyForJob";
export const BACKUPS = `query($app: String) { backups(app: $app) { ${BACKUP} } }`;
export const BACKUP_APP = `mutation($name: String!, $stop: Boolean) { backupApp(name: $name, stop: $stop) { ${RESULT} } }`;
export const RESTORE_APP = `mutation($name: String!, $backupId: ID!, $asName: String) {
  restoreApp(name: $name, backupId: $backupId, asName: $asName) { ${RESULT} } }`;
export const DELETE_BACKUP = `mutation($id: ID!) { deleteBackup(id: $id) { ${RESULT} ... on BackupDeleted { id } } }`;

const SCHEDULE = "id kind cron nextRunAt lastRunAt lastError lastJob { id state }";
export const SCHEDULES = `query($app: String) { schedules(app: $app) { ${SCHEDULE} } }`;
export const SCHEDULE_JOB = `mutation($app: String!, $kind: ScheduleKind!, $cron: String!) {
  scheduleJob(app: $app, kind: $kind, cron: $cron) { __typename ... on Error { message } ... on Schedule { id } } }`;
export const UNSCHEDULE_JOB = `mutation($id: ID!) { unscheduleJob(id: $id) { __typename ... on Error { message } } }`;

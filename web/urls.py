from django.urls import path

from web.views import auth, classification, invitations, patients, pro, trust, visits

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("site/", auth.site_switch, name="site-switch"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", patients.patient_new, name="patient-new"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient"),
    path("patients/<int:pk>/edit/", patients.patient_edit_view, name="patient-edit"),
    path("patients/<int:pk>/history/", patients.patient_history, name="patient-history"),
    path("patients/<int:pk>/scores/", patients.patient_scores, name="patient-scores"),
    path(
        "patients/<int:pk>/refractory/attest/",
        trust.refractory_attest_view,
        name="refractory-attest",
    ),
    path(
        "patients/<int:pk>/classification/",
        classification.classification_edit,
        name="classification-edit",
    ),
    path("patients/<int:pk>/visits/new/", visits.visit_new, name="visit-new"),
    path("patients/<int:pk>/autoantibodies/new/", patients.antibody_new, name="antibody-new"),
    path("patients/<int:pk>/treatments/new/", patients.treatment_new, name="treatment-new"),
    path("autoantibodies/<int:pk>/edit/", patients.antibody_edit, name="antibody-edit"),
    path("autoantibodies/<int:pk>/delete/", patients.antibody_delete, name="antibody-delete"),
    path("treatments/<int:pk>/edit/", patients.treatment_edit, name="treatment-edit"),
    path("treatments/<int:pk>/delete/", patients.treatment_delete_view, name="treatment-delete"),
    path("visits/<int:pk>/", visits.visit_detail, name="visit"),
    path("visits/<int:pk>/edit/", visits.visit_edit, name="visit-edit"),
    path("visits/<int:pk>/delete/", visits.visit_delete_view, name="visit-delete"),
    path("visits/<int:pk>/explain/", visits.visit_explain, name="visit-explain"),
    path("visits/<int:pk>/history/", visits.visit_history, name="visit-history"),
    path("visits/<int:pk>/verify/", trust.verify, name="visit-verify"),
    path("visits/<int:pk>/sign/", trust.sign, name="visit-sign"),
    path("visits/<int:pk>/unlock/", trust.unlock, name="visit-unlock"),
    path("visits/<int:pk>/queries/new/", trust.query_new, name="query-new"),
    path("queries/", trust.query_list, name="queries"),
    path("queries/<int:pk>/answer/", trust.query_answer_view, name="query-answer"),
    path("queries/<int:pk>/close/", trust.query_close_view, name="query-close"),
    path("audit/", trust.audit_page, name="audit"),
    path("audit/export.csv", trust.audit_export, name="audit-export"),
    # Patients' invitations (issue 17): the coordinator's pages, and the patient's by token.
    path("patients/<int:pk>/invitations/new/", invitations.invitation_new, name="invitation-new"),
    path("invitations/", invitations.invitation_list, name="invitations"),
    path("invitations/<int:pk>/", invitations.invitation_detail, name="invitation"),
    path("invitations/<int:pk>/revoke/", invitations.invitation_revoke, name="invitation-revoke"),
    path("p/<str:token>/", pro.pro_answer, name="pro-answer"),
]

from django.urls import path

from baseline import views

urlpatterns = [path("formular/", views.form_page, name="form")]
